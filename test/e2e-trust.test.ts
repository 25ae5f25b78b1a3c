/**
 * The trust model end to end, as real processes: the content store, the
 * registry (with an operator), the griot CLI and two node agents, one with a
 * trust policy (--trust) and one without (it accepts a package only from a
 * current owner of its name, according to the registry).
 *
 * - An agent with --trust refuses a job whose dependency is signed by an
 *   author the policy does not allow, reports it failed naming that package
 *   and its author, and installs nothing of the job.
 * - An operator schedules an install for a node and follows its log; a
 *   stranger can neither schedule one nor read it.
 * - Owners: a second author cannot publish a name until an owner adds it;
 *   once the first author is removed, an agent without --trust refuses that
 *   author's version; yank and unyank.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, writeKeyFile } from '@griot/did';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { runGriot, spawnGriot, startServiceProcess, type CliRun, type ServiceProcess } from '@griot/test/support/process';

jest.setTimeout(240_000);

/** Fails with the command's stderr when it did not exit 0. */
function succeeded(run: CliRun): CliRun {
  if (run.code !== 0) throw new Error(`griot exited with ${run.code}: ${run.stderr}`);
  return run;
}

function writePackage(dir: string, descriptor: { name: string; version: string; dependencies?: Record<string, string> }, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'griot.json'), `${JSON.stringify({ nodeClass: 'edge', dependencies: {}, ...descriptor }, null, 2)}\n`);
  for (const [name, content] of Object.entries({ 'README.md': `# ${descriptor.name} ${descriptor.version}\n`, ...files })) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** The entries of a folder, or none when it does not exist. */
function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('the trust model, end to end', () => {
  const usePostgres = DB_KINDS.includes('postgres');
  let work: string;
  let content: ServiceProcess | undefined;
  let registry: ServiceProcess | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  const agents: ChildProcess[] = [];
  const agentLines: string[] = [];
  let env: NodeJS.ProcessEnv;
  const keys: Record<'authorA' | 'authorB' | 'operator' | 'stranger' | 'trustingNode' | 'plainNode', { file: string; did: string }> = {} as never;
  let trustingRoot: string;
  let plainRoot: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-e2e-trust-'));
    for (const name of ['authorA', 'authorB', 'operator', 'stranger', 'trustingNode', 'plainNode'] as const) {
      const file = join(work, `${name}.json`);
      keys[name] = { file, did: await writeKeyFile(file, generateKeyPair()) };
    }
    database = usePostgres ? await createPostgresDatabase() : undefined;
    content = await startServiceProcess('content-store', { CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: join(work, 'content-data'), LOG_LEVEL: 'info' });
    registry = await startServiceProcess('registry', {
      REGISTRY_LISTEN: '127.0.0.1:0',
      GRIOT_DATA_DIR: join(work, 'registry-data'),
      REGISTRY_DATABASE_URL: database?.url ?? '',
      CONTENT_STORE_ADDR: content.address,
      REGISTRY_OPERATORS: keys.operator.did,
      LOG_LEVEL: 'info',
    });
    env = { GRIOT_REGISTRY: registry.address, GRIOT_CONTENT: content.address };

    // The trusting node accepts author A for every name, and nobody else.
    const policy = join(work, 'trust.json');
    writeFileSync(policy, JSON.stringify({ authors: { '*': [keys.authorA.did] } }));
    trustingRoot = join(work, 'trusting-root');
    plainRoot = join(work, 'plain-root');
    agents.push(spawnGriot(['agent', '--node', keys.trustingNode.file, '--root', trustingRoot, '--trust', policy, '--wait-ms', '2000'], env, (l) => agentLines.push(`trusting: ${l}`)));
    agents.push(spawnGriot(['agent', '--node', keys.plainNode.file, '--root', plainRoot, '--wait-ms', '2000'], env, (l) => agentLines.push(`plain: ${l}`)));

    const src = join(work, 'src');
    succeeded(await runGriot(['publish', writePackage(join(src, 'libgood'), { name: 'libgood', version: '1.0.0' }), '--key', keys.authorA.file], env));
    succeeded(await runGriot(['publish', writePackage(join(src, 'libbad'), { name: 'libbad', version: '1.0.0' }), '--key', keys.authorB.file], env));
    succeeded(
      await runGriot(['publish', writePackage(join(src, 'app'), { name: 'app', version: '1.0.0', dependencies: { libgood: '^1.0.0', libbad: '^1.0.0' } }), '--key', keys.authorA.file], env),
    );
  });

  afterAll(async () => {
    await Promise.all(
      agents.map(async (agent) => {
        if (agent.exitCode !== null || agent.signalCode !== null) return;
        const exited = new Promise((r) => agent.once('exit', r));
        agent.kill('SIGTERM');
        await exited;
      }),
    );
    await registry?.stop();
    await content?.stop();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('an agent with --trust refuses a job with a dependency of an untrusted author and installs nothing of it', async () => {
    const libbad = JSON.parse(succeeded(await runGriot(['show', 'libbad@1.0.0', '--json'], env)).stdout) as { packageId: string };
    const followed: string[] = [];
    const install = await runGriot(['install', 'app@1.0.0', '--node', keys.trustingNode.file, '--follow'], env, (l) => followed.push(l));
    expect({ code: install.code, agent: install.code === 5 ? [] : agentLines }).toEqual({ code: 5, agent: [] });
    const reason = `libbad@1.0.0 (package ${libbad.packageId}) is signed by ${keys.authorB.did}, whom the trust policy ${join(work, 'trust.json')} does not allow for libbad (its pattern "*" allows ${keys.authorA.did})`;
    expect(followed[followed.length - 1]).toMatch(new RegExp(`^job [0-9a-f-]{36} failed: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(followed).not.toContainEqual(expect.stringMatching(/downloading|extracted/));
    // Not the trusted root, not the trusted dependency: nothing.
    expect(entries(join(trustingRoot, 'packages'))).toEqual([]);
    expect(entries(join(trustingRoot, '.griot', 'installed'))).toEqual([]);

    // The same agent installs what its policy allows.
    const trusted = await runGriot(['install', 'libgood@1.0.0', '--node', keys.trustingNode.file, '--follow'], env);
    expect({ code: trusted.code, stdout: trusted.stdout }).toEqual({ code: 0, stdout: expect.stringContaining(`libgood@1.0.0: author ${keys.authorA.did} is trusted for libgood by the trust policy (pattern "*")`) });
    expect(entries(join(trustingRoot, 'packages'))).toEqual(['libgood']);
  });

  it('an operator schedules an install for a node and follows its log; a stranger can do neither', async () => {
    const created = await runGriot(['install', 'libgood@1.0.0', '--target', keys.plainNode.did, '--key', keys.operator.file], env);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`on ${keys.plainNode.did} created`) });
    const jobId = created.stdout.trim();
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

    const followed = await runGriot(['logs', jobId, '-f', '--key', keys.operator.file], env);
    expect({ code: followed.code, stderr: followed.stderr, agent: followed.code === 0 ? [] : agentLines }).toEqual({ code: 0, stderr: '', agent: [] });
    expect(followed.stdout).toContain(`libgood@1.0.0: author ${keys.authorA.did} is a current owner of libgood according to the registry (no --trust policy)`);
    expect(followed.stdout.trim().split('\n').pop()).toBe(`job ${jobId} completed: installed libgood@1.0.0 and 0 dependencies`);
    expect(entries(join(plainRoot, 'packages'))).toEqual(['libgood']);

    const asNode = JSON.parse(succeeded(await runGriot(['logs', jobId, '--node', keys.plainNode.file, '--json'], env)).stdout) as { status: string; createdBy: string; targetNodeId: string };
    expect(asNode).toMatchObject({ status: 'completed', createdBy: keys.operator.did, targetNodeId: keys.plainNode.did });

    const peek = await runGriot(['logs', jobId, '--key', keys.stranger.file], env);
    expect(peek.code).toBe(1);
    expect(peek.stderr).toMatch(/^griot: registry refused \(PERMISSION_DENIED\): .*\bonly\b.*\boperator\b/);
    expect(peek.stderr.trim().split('\n')).toHaveLength(1);

    const schedule = await runGriot(['install', 'libgood@1.0.0', '--target', keys.plainNode.did, '--key', keys.stranger.file], env);
    expect(schedule.code).toBe(1);
    expect(schedule.stderr).toMatch(/^griot: registry refused \(PERMISSION_DENIED\): .*\boperator\b/);
    expect(schedule.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('owners decide who publishes a name; without --trust an agent refuses an author who is no longer an owner; yank and unyank', async () => {
    const src = join(work, 'src');
    const toolOne = JSON.parse(succeeded(await runGriot(['publish', writePackage(join(src, 'tool-1'), { name: 'tool', version: '1.0.0' }), '--key', keys.authorA.file, '--json'], env)).stdout) as {
      packageId: string;
    };
    const toolTwoDir = writePackage(join(src, 'tool-2'), { name: 'tool', version: '1.1.0' });

    const refused = await runGriot(['publish', toolTwoDir, '--key', keys.authorB.file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^griot: registry refused \(PERMISSION_DENIED\): .*\bonly an owner of tool may\b/);
    expect(refused.stderr).toContain(keys.authorA.did);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    const added = JSON.parse(succeeded(await runGriot(['owner', 'add', 'tool', keys.authorB.did, '--key', keys.authorA.file, '--json'], env)).stdout) as { owners: Array<{ did: string }> };
    expect(added.owners.map((o) => o.did)).toEqual([keys.authorA.did, keys.authorB.did]);
    const toolTwo = JSON.parse(succeeded(await runGriot(['publish', toolTwoDir, '--key', keys.authorB.file, '--json'], env)).stdout) as { packageId: string };
    succeeded(await runGriot(['owner', 'rm', 'tool', keys.authorA.did, '--key', keys.authorB.file], env));
    const lastOwner = await runGriot(['owner', 'rm', 'tool', keys.authorB.did, '--key', keys.authorB.file], env);
    expect(lastOwner.code).toBe(1);
    expect(lastOwner.stderr.trim().split('\n')).toHaveLength(1);

    const listed = JSON.parse(succeeded(await runGriot(['owner', 'ls', 'tool', '--json'], env)).stdout) as {
      owners: Array<{ did: string }>;
      audit: Array<{ action: string; actorDid: string; ownerDid: string }>;
    };
    expect(listed.owners.map((o) => o.did)).toEqual([keys.authorB.did]);
    expect(listed.audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'owner_added', actorDid: keys.authorA.did, ownerDid: keys.authorB.did }),
        expect.objectContaining({ action: 'owner_removed', actorDid: keys.authorB.did, ownerDid: keys.authorA.did }),
      ]),
    );

    // tool@1.0.0 is still registered, but its author no longer owns the name.
    const old = await runGriot(['install', 'tool@1.0.0', '--node', keys.plainNode.file, '--follow'], env);
    expect(old.code).toBe(5);
    expect(old.stdout.trim().split('\n').pop()).toMatch(
      new RegExp(`failed: tool@1\\.0\\.0 \\(package ${toolOne.packageId}\\) is signed by ${keys.authorA.did}, who is not a current owner of tool according to the registry \\(owners: ${keys.authorB.did}\\)$`),
    );
    expect(entries(join(plainRoot, 'packages', 'tool'))).toEqual([]);
    succeeded(await runGriot(['install', 'tool@1.1.0', '--node', keys.plainNode.file, '--follow'], env));
    expect(entries(join(plainRoot, 'packages', 'tool'))).toEqual(['1.1.0']);

    // Yanked: a range or a name@version no longer finds it, its package id does, and the log says why.
    const yank = await runGriot(['yank', 'tool@1.1.0', '--key', keys.authorB.file, '--reason', 'broken build', '--json'], env);
    expect(JSON.parse(succeeded(yank).stdout)).toMatchObject({ packageId: toolTwo.packageId, yanked: true, yankReason: 'broken build' });
    const byName = await runGriot(['install', 'tool@1.1.0', '--node', keys.plainNode.file], env);
    expect(byName).toMatchObject({ code: 4, stderr: `griot: tool@1.1.0 is yanked (broken build); name it by its package id ${toolTwo.packageId} to use it anyway\n` });
    const byId = await runGriot(['install', toolTwo.packageId, '--node', keys.plainNode.file, '--follow'], env);
    expect(succeeded(byId).stdout).toContain('tool@1.1.0: this version is yanked: broken build');
    expect(byId.stdout).toContain(`tool@1.1.0: already installed at ${join(plainRoot, 'packages', 'tool', '1.1.0')} (package ${toolTwo.packageId}), skipping`);
    const notOwner = await runGriot(['unyank', 'tool@1.1.0', '--key', keys.authorA.file], env);
    expect(notOwner.code).toBe(1);
    expect(notOwner.stderr).toMatch(/^griot: registry refused \(PERMISSION_DENIED\): .*\bonly\b.*\bowner/);
    expect(JSON.parse(succeeded(await runGriot(['unyank', 'tool@1.1.0', '--key', keys.authorB.file, '--json'], env)).stdout)).toMatchObject({ yanked: false });
    expect(succeeded(await runGriot(['show', 'tool@1.1.0'], env)).stdout).not.toContain('yanked');
  });
});
