/**
 * End to end, as real processes: the content store, the registry, the griot
 * CLI and a node agent. keygen → publish a package and its dependency →
 * install through the agent, following the log → the files on disk are the
 * sources → the job is completed, with completed_at set in the database.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runGriot, spawnGriot, startServiceProcess, type CliRun, type ServiceProcess } from '@griot/test/support/process';
import { makeTestCertificates } from '@griot/test/support/certificates';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';

jest.setTimeout(240_000);

/** Every file under `dir`, relative, with content and executable bit. */
function snapshot(dir: string): Record<string, { content: string; executable: boolean }> {
  const out: Record<string, { content: string; executable: boolean }> = {};
  const walk = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else out[r] = { content: readFileSync(p, 'utf8'), executable: (statSync(p).mode & 0o111) !== 0 };
    }
  };
  walk(dir, '');
  return out;
}

function writePackage(dir: string, descriptor: object, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'griot.json'), `${JSON.stringify(descriptor, null, 2)}\n`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

/** Fails with the command's stderr when it did not exit 0. */
function succeeded(run: CliRun): CliRun {
  if (run.code !== 0) throw new Error(`griot exited with ${run.code}: ${run.stderr}`);
  return run;
}

describe.each([
  ['plaintext', false],
  ['over TLS, with mutual TLS from the registry and the CLI to the content store', true],
])('griot CLI end to end, %s', (_label, tls) => {
  const usePostgres = DB_KINDS.includes('postgres');
  let work: string;
  let content: ServiceProcess | undefined;
  let registry: ServiceProcess | undefined;
  let agent: ChildProcess | undefined;
  const agentLines: string[] = [];
  let database: { url: string; drop(): Promise<void> } | undefined;
  let env: NodeJS.ProcessEnv;
  let certDir: string | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-e2e-'));
    database = usePostgres ? await createPostgresDatabase() : undefined;
    const certs = tls ? makeTestCertificates() : undefined;
    certDir = certs?.dir;
    content = await startServiceProcess('content-store', {
      CONTENT_LISTEN: '127.0.0.1:0',
      GRIOT_DATA_DIR: join(work, 'content-data'),
      LOG_LEVEL: 'info',
      ...(certs ? { CONTENT_TLS_CERT: certs.serverCert, CONTENT_TLS_KEY: certs.serverKey, CONTENT_TLS_CLIENT_CA: certs.caCert } : {}),
    });
    registry = await startServiceProcess('registry', {
      REGISTRY_LISTEN: '127.0.0.1:0',
      GRIOT_DATA_DIR: join(work, 'registry-data'),
      REGISTRY_DATABASE_URL: database?.url ?? '',
      // With TLS, dial by host name: the certificate names localhost, and a TLS server name may not be an IP address.
      CONTENT_STORE_ADDR: certs ? content.address.replace('127.0.0.1', 'localhost') : content.address,
      LOG_LEVEL: 'info',
      ...(certs
        ? {
            REGISTRY_TLS_CERT: certs.serverCert,
            REGISTRY_TLS_KEY: certs.serverKey,
            CONTENT_STORE_TLS_CA: certs.caCert,
            CONTENT_STORE_TLS_CERT: certs.clientCert,
            CONTENT_STORE_TLS_KEY: certs.clientKey,
          }
        : {}),
    });
    const host = (address: string) => (certs ? address.replace('127.0.0.1', 'localhost') : address);
    env = {
      GRIOT_REGISTRY: host(registry.address),
      GRIOT_CONTENT: host(content.address),
      ...(certs ? { GRIOT_TLS_CA: certs.caCert, GRIOT_TLS_CERT: certs.clientCert, GRIOT_TLS_KEY: certs.clientKey } : {}),
    };
    if (certs) {
      // Plaintext is refused, and so is a client without a certificate at the content store.
      const plain = await runGriot(['search', '--json'], { GRIOT_REGISTRY: env.GRIOT_REGISTRY, GRIOT_CONTENT: env.GRIOT_CONTENT });
      expect(plain.code).toBe(3);
      const noCert = await runGriot(['content', 'ls'], { GRIOT_REGISTRY: env.GRIOT_REGISTRY, GRIOT_CONTENT: env.GRIOT_CONTENT, GRIOT_TLS_CA: certs.caCert });
      expect(noCert.code).toBe(3);
    }
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGKILL');
    }
    await registry?.stop();
    await content?.stop();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('publishes, installs through the agent and records the completed job', async () => {
    const authorKey = join(work, 'author.json');
    const nodeKey = join(work, 'node.json');
    const author = await runGriot(['keygen', '--out', authorKey], env);
    expect(author).toMatchObject({ code: 0 });
    const node = await runGriot(['keygen', '--out', nodeKey, '--json'], env);
    expect(node.code).toBe(0);
    const nodeDid = (JSON.parse(node.stdout) as { did: string }).did;

    const libDir = join(work, 'src', 'libgreet');
    writePackage(libDir, { name: 'libgreet', version: '1.2.0', nodeClass: 'edge', dependencies: {} }, {
      'lib/greet.sh': 'greet() { echo "hello, $1"; }\n',
      'README.md': '# libgreet\n',
    });
    const appDir = join(work, 'src', 'hello');
    writePackage(appDir, { name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: { libgreet: '^1.0.0' } }, {
      'bin/hello': '#!/bin/sh\n. ../libgreet/lib/greet.sh\ngreet world\n',
      'share/doc/notes.txt': 'notes\n',
    });
    chmodSync(join(appDir, 'bin', 'hello'), 0o755);

    const packed = await runGriot(['pack', appDir, '-o', join(work, 'hello.tgz')], env);
    expect(packed.code).toBe(0);

    const lib = await runGriot(['publish', libDir, '--key', authorKey], env);
    succeeded(lib);
    const app = await runGriot(['publish', appDir, '--key', authorKey, '--json'], env);
    expect(app).toMatchObject({ code: 0, stderr: '' });
    const published = JSON.parse(app.stdout) as { packageId: string };
    expect(published.packageId).toBe(packed.stdout.trim());

    const again = await runGriot(['publish', appDir, '--key', authorKey, '--json'], env);
    succeeded(again);
    expect(JSON.parse(again.stdout)).toMatchObject({ packageId: published.packageId, alreadyRegistered: true });

    const search = await runGriot(['search', '--name', 'hello', '--json'], env);
    expect(search.code).toBe(0);
    expect((JSON.parse(search.stdout) as { packages: Array<{ packageId: string }> }).packages.map((p) => p.packageId)).toEqual([published.packageId]);
    const show = await runGriot(['show', 'hello@1.0.0'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('libgreet ^1.0.0');

    const root = join(work, 'node-root');
    agent = spawnGriot(['agent', '--node', nodeKey, '--root', root, '--wait-ms', '2000'], env, (line) => agentLines.push(line));

    const followed: string[] = [];
    const install = await runGriot(['install', 'hello@1.0.0', '--node', nodeKey, '--follow'], env, (line) => followed.push(line));
    expect({ code: install.code, stderr: install.stderr, agent: install.code === 0 ? [] : agentLines }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/^job [0-9a-f-]{36}: install hello@1\.0\.0 on did:key:/),
      agent: [],
    });
    const jobId = /^job ([0-9a-f-]{36})/.exec(install.stderr)![1]!;
    expect(followed.some((l) => /libgreet@1\.2\.0: extracted/.test(l))).toBe(true);
    expect(followed.some((l) => /hello@1\.0\.0: sha256 [0-9a-f]{64} verified/.test(l))).toBe(true);
    expect(followed[followed.length - 1]).toBe(`job ${jobId} completed: installed hello@1.0.0 and 1 dependencies`);
    // Dependencies first.
    const libLine = followed.findIndex((l) => l.includes('libgreet@1.2.0: extracted'));
    const appLine = followed.findIndex((l) => l.includes('hello@1.0.0: extracted'));
    expect(libLine).toBeLessThan(appLine);

    expect(snapshot(join(root, 'packages', 'hello', '1.0.0'))).toEqual(snapshot(appDir));
    expect(snapshot(join(root, 'packages', 'libgreet', '1.2.0'))).toEqual(snapshot(libDir));
    expect(readdirSync(join(root, 'packages')).sort()).toEqual(['hello', 'libgreet']);

    const logs = await runGriot(['logs', jobId, '--json', '--node', nodeKey], env);
    expect(logs.code).toBe(0);
    const job = JSON.parse(logs.stdout) as { status: string; completedAt: string | null; targetNodeId: string; logs: string[] };
    expect(job).toMatchObject({ status: 'completed', targetNodeId: nodeDid });
    expect(job.completedAt).not.toBeNull();
    expect(job.logs).toEqual(followed.slice(0, -1));

    // -f --json: one JSON object per log line, then one for the outcome.
    const streamed = await runGriot(['logs', jobId, '-f', '--json', '--node', nodeKey], env);
    expect(streamed.code).toBe(0);
    const objects = streamed.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects.slice(0, -1)).toEqual(job.logs.map((line, index) => ({ jobId, index, line })));
    expect(objects[objects.length - 1]).toEqual({ jobId, status: 'completed', statusMessage: 'installed hello@1.0.0 and 1 dependencies', lineCount: job.logs.length });
    // The node's jobs, as that node: this one, completed.
    const jobs = JSON.parse(succeeded(await runGriot(['--json', 'jobs', 'ls', '--node', nodeKey, '--status', 'completed'], env)).stdout) as { jobs: { jobId: string }[] };
    expect(jobs.jobs.map((j) => j.jobId)).toContain(jobId);

    if (database) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ status: string; completed_at: Date | null }>('SELECT status, completed_at FROM installations WHERE job_id = $1', [jobId]);
        expect(rows).toHaveLength(1);
        expect(rows[0]!.status.toLowerCase()).toContain('completed');
        expect(rows[0]!.completed_at).toBeInstanceOf(Date);
      } finally {
        await client.end();
      }
    }

    // A second install finds both packages in place.
    const second = await runGriot(['install', published.packageId, '--node', nodeKey, '--follow'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/hello@1\.0\.0: already installed/);

    const stopped = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
    agent.kill('SIGTERM');
    expect(await stopped).toBe(0);
  });
});
