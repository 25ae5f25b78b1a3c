/**
 * The hostile-input corpus (test/hostile/corpus.json) against both services,
 * started in-process on PostgreSQL with a short stream idle limit: every case
 * gets its precise status (and ErrorInfo reason where the status is ours),
 * both services still answer SERVING afterwards, and no table of either
 * database changed (row counts and row digests).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { signDocument } from '@griot/did';
import { content, health, registry } from '@griot/proto';
import { validateManifest } from '../services/registry/src/domain/manifest';
import { expectedCodes, isEmptyAnswer, loadCorpus, methodInfo, sendCase, type HostileCase, type Seeds, type ServiceName } from './hostile/corpus';
import { DatabaseSnapshots, type Snapshot } from './hostile/db-snapshot';
import { deepObject, RawClient } from './hostile/wire';
import { callerAuth, connect, CONTENT_AUDIENCE, newIdentity, nodeAuth, publishTestPackage, runFakeAgent, unary, uploadBytes } from '@griot/test/support/fixtures';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';

const IDLE_MS = 300;
const CASES = loadCorpus();
/** Categories whose server side may still be running when the client has its answer. */
const SETTLE_MS: Record<string, number> = { deadline: 400, 'truncated-stream': 150, 'idle-stream': 100 };

describeIf([postgresKind()])('hostile input', () => {
  let contentStore: StartedService;
  let registryService: StartedService;
  let clients: ReturnType<typeof connect>;
  const raw = {} as Record<ServiceName, RawClient>;
  const healthClients = {} as Record<ServiceName, health.HealthClient>;
  const dbs = {} as Record<ServiceName, DatabaseSnapshots>;
  const baseline = {} as Record<ServiceName, Snapshot>;
  const seeds: Seeds = {};

  beforeAll(async () => {
    contentStore = await startTestContentStore('postgres', { CONTENT_STREAM_IDLE_TIMEOUT: `${IDLE_MS}ms`, CONTENT_SWEEP_INTERVAL: '1h' });
    registryService = await startTestRegistry('postgres', contentStore.address, {
      REGISTRY_STREAM_IDLE_TIMEOUT: `${IDLE_MS}ms`,
      REGISTRY_LEASE_DURATION: '1h',
      REGISTRY_LEASE_SWEEP_INTERVAL: '10m',
      REGISTRY_MAX_CLAIM_WAIT: '200ms',
    });
    clients = connect({ content: contentStore.address, registry: registryService.address });
    for (const [name, service] of [['content', contentStore], ['registry', registryService]] as const) {
      raw[name] = new RawClient(service.address);
      healthClients[name] = new health.HealthClient(service.address, credentials.createInsecure());
      dbs[name] = await DatabaseSnapshots.open(service.databaseUrl!);
    }
    await seed();
    // Let batched log writes and checkpoints of the seeded jobs land before the baseline.
    await sleep(500);
    for (const name of ['content', 'registry'] as const) baseline[name] = await dbs[name].take();
  }, 60_000);

  afterAll(async () => {
    for (const name of ['content', 'registry'] as const) {
      raw[name]?.close();
      healthClients[name]?.close();
      await dbs[name]?.close();
    }
    clients?.close();
    await registryService?.stop();
    await contentStore?.stop();
  });

  /** A package, a completed job and a running one for the node, an unregistered signed package, and a content manifest. */
  async function seed(): Promise<void> {
    const author = newIdentity();
    const node = newIdentity();
    const pkg = await publishTestPackage(clients, author, { name: 'hostile-seed', version: '1.0.0' });
    const create = () =>
      unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(
        clients.registry.createInstallation.bind(clients.registry),
        { packageId: pkg.packageId, targetNodeId: node.did },
        nodeAuth(node),
      );
    const done = (await create()).installation!;
    await runFakeAgent(clients.registry, node, ['line 1', 'line 2']);
    const running = (await create()).installation!;
    const claimed = await unary<registry.ClaimInstallationRequest, registry.ClaimInstallationResponse>(
      clients.registry.claimInstallation.bind(clients.registry),
      { waitMillis: 1000 },
      nodeAuth(node),
    );
    expect(claimed.installation?.jobId).toBe(running.jobId);

    const artifact = Buffer.from('an artifact uploaded but never registered\n'.repeat(50));
    const newSha = await uploadBytes(clients.content, artifact, author);
    const newManifest = signDocument(
      {
        name: 'hostile-unregistered',
        version: '1.0.0',
        nodeClass: 'worker',
        dependencies: {},
        artifact: { digest: `sha256:${newSha}`, size: artifact.length, mediaType: 'application/gzip' },
        author: author.did,
      },
      { keyPair: author.keyPair },
    );
    const nulManifest = signDocument({ ...unsigned(newManifest), nodeClass: 'work\u0000er' }, { keyPair: author.keyPair });
    const manifest = await unary<content.CreateManifestRequest, content.CreateManifestResponse>(clients.content.createManifest.bind(clients.content), {
      classId: '5f0c3c52-8d1a-4b7e-9a43-0d6b2f1e7c11',
      manifestId: '',
      unpackerName: 'labox.file@v1',
      tags: { project: 'hostile', owner: "o'brien" },
      contents: [
        {
          contentKey: 'readme',
          contentType: 'text/plain',
          contentEncoding: '',
          serializerName: 'labox.text@v1',
          serializerConfig: {},
          serializerType: content.SerializerType.SERIALIZER_TYPE_VALUE,
          storageName: '',
          source: { $case: 'inlineValue', inlineValue: Buffer.from('hello') },
        },
      ],
    }, callerAuth(author, CONTENT_AUDIENCE));
    Object.assign(seeds, {
      PACKAGE_ID: pkg.packageId,
      BLOB_SHA256: pkg.packageId,
      AUTHOR_DID: author.did,
      NODE_DID: node.did,
      // Fresh at each use: a service accepts a token once.
      NODE_TOKEN: () => nodeAuth(node).get('authorization')[0],
      CONTENT_TOKEN: () => callerAuth(author, CONTENT_AUDIENCE).get('authorization')[0],
      DONE_JOB_ID: done.jobId,
      RUNNING_JOB_ID: running.jobId,
      NEW_PACKAGE_ID: newSha,
      NEW_MANIFEST: newManifest,
      NEW_MANIFEST_WITH_NUL: nulManifest,
      NEW_MANIFEST_WITH_DEEP_20: { ...newManifest, extra: deepObject(20) },
      NEW_MANIFEST_WITH_DEEP_30: { ...newManifest, extra: deepObject(30) },
      MANIFEST_ID: manifest.manifest!.id,
      CONTENT_ID: manifest.manifest!.contents[0]!.id,
      UNSTORED_SHA256: createHash('sha256').update('never stored').digest('hex'),
    });
  }

  function unsigned(signed: Record<string, unknown>): Record<string, unknown> {
    const { proof: _proof, ...rest } = signed;
    return rest;
  }

  async function serving(name: ServiceName): Promise<number> {
    const res = await new Promise<health.HealthCheckResponse>((resolve, reject) =>
      healthClients[name].check({ service: '' }, new Metadata(), { deadline: new Date(Date.now() + 5000) }, (err, r) => (err ? reject(err) : resolve(r!))),
    );
    return res.status;
  }

  it('covers every method of both services with each kind of malformed body', () => {
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    const kinds = ['truncated-varint', 'truncated-tag', 'length-past-end', 'invalid-wire-type', 'unterminated-group', 'varint-too-long', 'garbage', 'wrong-wire-type'];
    for (const [service, definition] of [['content', content.ContentServiceService], ['registry', registry.RegistryServiceService]] as const) {
      for (const key of Object.keys(definition)) {
        const method = key[0]!.toUpperCase() + key.slice(1);
        for (const kind of kinds) expect(CASES.map((c) => c.id)).toContain(`${service}.${method}.malformed.${kind}`);
      }
    }
    for (const c of CASES) expect(methodInfo(c).path).toContain(c.method);
  });

  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c: HostileCase) => {
    const outcome = await sendCase(c, { address: { content: contentStore.address, registry: registryService.address }, client: raw }, seeds);
    const got = { code: status[outcome.code], reason: outcome.reason, message: outcome.message };
    if (!expectedCodes(c).includes(outcome.code) || (c.expect.reason !== undefined && outcome.reason !== c.expect.reason)) {
      throw new Error(`${c.id}: expected ${JSON.stringify(c.expect)}, got ${JSON.stringify(got)}`);
    }
    if (c.expect.empty) expect(isEmptyAnswer(c, outcome)).toBe(true);
    await sleep(SETTLE_MS[c.category] ?? 0);

    for (const name of ['content', 'registry'] as const) {
      expect(await serving(name)).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
      const after = await dbs[name].take();
      const before = { ...baseline[name] };
      // Re-baseline so that one write does not fail every later case.
      baseline[name] = after;
      for (const table of c.writes ?? []) before[table] = after[table]!;
      expect({ service: name, tables: after }).toEqual({ service: name, tables: before });
    }
  });

  describe('domain guards below the decoder', () => {
    // The generated decoder stops near 33 levels of Struct, so deeper JSON only reaches the domain from other callers.
    it.each([33, 1000, 10_000])('rejects a manifest %i objects deep with MANIFEST_TOO_DEEP, without recursing', (depth) => {
      const manifest = { ...(seeds['NEW_MANIFEST'] as Record<string, unknown>), extra: deepObject(depth) };
      expect(() => validateManifest(manifest, { maxBytes: 4 * 1024 * 1024 })).toThrow(expect.objectContaining({ reason: 'MANIFEST_TOO_DEEP', code: status.INVALID_ARGUMENT }));
    });
  });
});
