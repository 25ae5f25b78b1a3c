/**
 * A Python client, with stubs generated from proto/ at test time (Debian's
 * protoc and grpc_python_plugin, run with /usr/bin/python3), uploads content
 * in chunks, reads it back, lists packages, watches an installation to its
 * end while a node's agent reports it, and asks both services' reflection
 * what they serve, half-closing its side as grpcurl does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry } from '@griot/proto';
import { connect, newIdentity, nodeAuth, publishTestPackage, runFakeAgent, unary } from '@griot/test/support/fixtures';
import { REPO_ROOT } from '@griot/test/support/process';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';
import { describeIf, tool } from '@griot/test/support/tools';

const PYTHON = '/usr/bin/python3';
const PLUGIN = '/usr/bin/grpc_python_plugin';

/** Generates the Python stubs of both services into `out`. */
function generateStubs(out: string): void {
  const proto = join(REPO_ROOT, 'proto');
  execFileSync(
    'protoc',
    [`-I${proto}`, '-I/usr/include', `--python_out=${out}`, `--grpc_out=${out}`, `--plugin=protoc-gen-grpc=${PLUGIN}`,
      'griot/content/v1/content_service.proto', 'griot/registry/v1/registry_service.proto'],
    { stdio: 'pipe' },
  );
  // The reflection protos live under grpc/, which in Python is grpcio's own package: compile
  // copies of them as top-level modules (reflection_v1_pb2, ...) instead.
  for (const version of ['v1', 'v1alpha']) {
    copyFileSync(join(proto, 'grpc', 'reflection', version, 'reflection.proto'), join(out, `reflection_${version}.proto`));
    execFileSync('protoc', [`-I${out}`, `--python_out=${out}`, `--grpc_out=${out}`, `--plugin=protoc-gen-grpc=${PLUGIN}`, `reflection_${version}.proto`], { stdio: 'pipe' });
  }
}

describeIf([tool('python-grpc'), tool('protoc'), tool('grpc-python-plugin')])('a Python client', () => {
  let contentStore: StartedService;
  let registryService: StartedService;
  let stubs: string;

  beforeAll(async () => {
    stubs = mkdtempSync(join(tmpdir(), 'griot-py-'));
    generateStubs(stubs);
    contentStore = await startTestContentStore('pglite');
    registryService = await startTestRegistry('pglite', contentStore.address);
  });
  afterAll(async () => {
    await registryService?.stop();
    await contentStore?.stop();
    rmSync(stubs, { recursive: true, force: true });
  });

  it('uploads, reads back, lists packages and watches a job to its end', async () => {
    const clients = connect({ content: contentStore.address, registry: registryService.address });
    const author = newIdentity();
    const node = newIdentity();
    const pkg = await publishTestPackage(clients, author, { name: 'hello', version: '1.0.0' });
    const created = await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(
      clients.registry.createInstallation.bind(clients.registry),
      { packageId: pkg.packageId, targetNodeId: node.did },
      nodeAuth(node),
    );
    const jobId = created.installation!.jobId;

    const python = spawn(
      PYTHON,
      [join(__dirname, 'python', 'griot_client.py'), '--stubs', stubs, '--content', contentStore.address, '--registry', registryService.address, '--job', jobId,
        // Its own tokens, from the node's seed: the README's token format, written in Python.
        '--node-seed', Buffer.from(node.keyPair.privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    python.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    python.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => python.on('exit', resolve));

    const lines = Array.from({ length: 60 }, (_, i) => `step ${i + 1} of 60`);
    await runFakeAgent(clients.registry, node, lines, undefined, { batch: 7, delayMs: 20 });
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const result = JSON.parse(stdout) as {
      upload: { complete: boolean; committed_size: number; sha256: string; chunks: number };
      upload_status: { complete: boolean; committed_size: number };
      read: { size: number; messages: number; matches: boolean; sha256: string };
      ranged_read_matches: boolean;
      expected_sha256: string;
      packages: { package_id: string; name: string; author_did: string }[];
      watch: { lines: string[]; final_status: string };
      gap_or_duplicate_at?: number;
      bad_request: { code: string; details: string } | null;
      reflection: Record<string, { answers: string[][]; ended: string }>;
      node_did: string;
    };
    expect(result.node_did).toBe(node.did);
    expect(result.upload.complete).toBe(true);
    expect(result.upload.chunks).toBeGreaterThan(1);
    expect(result.upload.sha256).toBe(result.expected_sha256);
    expect(result.upload_status).toEqual({ complete: true, committed_size: result.upload.committed_size });
    expect(result.read.matches).toBe(true);
    expect(result.read.sha256).toBe(result.expected_sha256);
    expect(result.ranged_read_matches).toBe(true);
    expect(result.packages).toEqual([{ package_id: pkg.packageId, name: 'hello', author_did: author.did }]);
    expect(result.watch.lines).toEqual(lines);
    expect(result.watch.final_status).toBe('INSTALLATION_STATUS_COMPLETED');
    expect(result.gap_or_duplicate_at).toBeUndefined();
    expect(result.bad_request?.code).toBe('INVALID_ARGUMENT');
    const reflectionOf = (api: string) => ({
      answers: Array(2).fill([api, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'].sort()),
      ended: 'OK',
    });
    expect(result.reflection).toEqual({
      'content v1': reflectionOf('griot.content.v1.ContentService'),
      'content v1alpha': reflectionOf('griot.content.v1.ContentService'),
      'registry v1': reflectionOf('griot.registry.v1.RegistryService'),
      'registry v1alpha': reflectionOf('griot.registry.v1.RegistryService'),
    });
    clients.close();
  });
});
