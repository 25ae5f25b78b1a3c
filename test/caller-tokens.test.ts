/**
 * Caller tokens are used once, through the real services on PostgreSQL and
 * PGlite: a token accepted by one registry replica is refused by the other
 * replica on the same database (PostgreSQL) and by the same replica, a token
 * used on the content store is refused there the second time; the time
 * rules (a token dated beyond the skew, one living more than 300 s, one that
 * expired a moment ago); and the sweep of `used_tokens`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { createCallerToken } from '@griot/did';
import { content, registry } from '@griot/proto';
import { readRegistryConfig, startRegistry, type RunningRegistry } from '@griot/registry';
import { silentLogger, UsedTokens } from '@griot/server-kit';
import { expectFailure } from '@griot/test/support/content-store';
import { createPostgresDatabase, createTestDatabase, DB_KINDS } from '@griot/test/support/database';
import { callerAuth, CONTENT_AUDIENCE, newIdentity, unary, type Identity } from '@griot/test/support/fixtures';
import { startTestContentStore, type StartedService } from '@griot/test/support/services';

function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

describe.each(DB_KINDS)('caller tokens on %s', (kind) => {
  let contentStore: StartedService;
  let contentClient: content.ContentServiceClient;
  const replicas: { service: RunningRegistry; client: registry.RegistryServiceClient }[] = [];
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  const node = newIdentity();

  beforeAll(async () => {
    contentStore = await startTestContentStore(kind);
    contentClient = new content.ContentServiceClient(contentStore.address, credentials.createInsecure());
    dataDir = mkdtempSync(join(tmpdir(), 'griot-tokens-'));
    const pg = kind === 'postgres' ? await createPostgresDatabase() : undefined;
    dropDatabase = pg?.drop;
    // Two replicas on one PostgreSQL database; PGlite is one process's database, so one replica.
    const count = kind === 'postgres' ? 2 : 1;
    for (let i = 0; i < count; i++) {
      const config = readRegistryConfig({
        REGISTRY_LISTEN: '127.0.0.1:0',
        REGISTRY_DATABASE_URL: pg?.url,
        GRIOT_DATA_DIR: join(dataDir, `replica-${i}`),
        GRIOT_EMBEDDED_DATABASE: 'pglite',
        CONTENT_STORE_ADDR: contentStore.address,
      });
      const service = await startRegistry(config, silentLogger());
      replicas.push({ service, client: new registry.RegistryServiceClient(service.address, credentials.createInsecure()) });
    }
  });

  afterAll(async () => {
    for (const r of replicas) {
      r.client.close();
      await r.service.stop(1000);
    }
    contentClient?.close();
    await contentStore?.stop();
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const list = (client: registry.RegistryServiceClient, metadata: Metadata) =>
    unary<registry.ListInstallationsRequest, registry.ListInstallationsResponse>(client.listInstallations.bind(client), { targetNodeId: '', packageId: '', status: 0, pageSize: 1, pageToken: '' }, metadata);

  it('refuses a registry token used before, on the same replica and on every other replica of the database', async () => {
    const metadata = callerAuth(node);
    await list(replicas[0]!.client, metadata);
    for (const r of [...replicas].reverse()) {
      expect(await expectFailure(list(r.client, metadata))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'TOKEN_REPLAYED', message: expect.stringContaining('make a fresh token for each call') });
    }
    // A fresh token of the same caller is fine, on any replica.
    for (const r of replicas) await list(r.client, callerAuth(node));
  });

  it('refuses two calls racing with one token on two replicas: exactly one is accepted', async () => {
    const metadata = callerAuth(node);
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => list(replicas[i % replicas.length]!.client, metadata)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect((o.reason as { code: number }).code).toBe(status.UNAUTHENTICATED);
    }
  });

  it('refuses a content-store token used before', async () => {
    const author = newIdentity();
    const metadata = callerAuth(author, CONTENT_AUDIENCE);
    const request: content.CreateManifestRequest = {
      manifestId: '',
      classId: '5f0c3c52-8d1a-4b7e-9a43-0d6b2f1e7c11',
      unpackerName: 'labox.file@v1',
      tags: { suite: 'caller-tokens' },
      contents: [],
    };
    const create = (md: Metadata) => unary<content.CreateManifestRequest, content.CreateManifestResponse>(contentClient.createManifest.bind(contentClient), request, md);
    await create(metadata);
    expect(await expectFailure(create(metadata))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'TOKEN_REPLAYED' });
    await create(callerAuth(author, CONTENT_AUDIENCE));
  });

  describe('time rules', () => {
    const token = (identity: Identity, offsetSeconds: number, ttlSeconds: number) =>
      bearer(createCallerToken({ keyPair: identity.keyPair, audience: 'griot-registry', now: new Date(Date.now() + offsetSeconds * 1000), ttlSeconds }));

    it.each<[string, number, number, string]>([
      ['dated 60 s in the future (beyond the 30 s skew)', 60, 60, 'TOKEN_NOT_YET_VALID'],
      ['living 301 s', 0, 301, 'TOKEN_LIFETIME_TOO_LONG'],
      // Within the 30 s skew after exp, which used to be accepted.
      ['expired 3 s ago', -63, 60, 'TOKEN_EXPIRED'],
      ['expired 10 minutes ago', -600, 60, 'TOKEN_EXPIRED'],
    ])('refuses a token %s', async (_what, offset, ttl, reason) => {
      for (const r of replicas) expect(await expectFailure(list(r.client, token(node, offset, ttl)))).toMatchObject({ code: status.UNAUTHENTICATED, reason });
    });

    it('accepts a token dated within the skew in the future, and living the whole 300 s', async () => {
      await list(replicas[0]!.client, token(node, 20, 300));
    });
  });
});

describe.each(DB_KINDS)('used_tokens on %s', (kind) => {
  it.each(['registry', 'content-store'] as const)('of the %s is swept of expired tokens only, in batches', async (service) => {
    const t = await createTestDatabase(kind, service);
    try {
      let now = new Date('2030-01-01T00:00:00Z');
      const tokens = new UsedTokens(t.db.knex, () => now);
      const minute = (n: number) => new Date(now.getTime() + n * 60_000);
      expect(await tokens.firstUse('did:key:a', 'j1', minute(1))).toBe(true);
      expect(await tokens.firstUse('did:key:a', 'j1', minute(1))).toBe(false);
      // The same jti of another issuer is another token.
      expect(await tokens.firstUse('did:key:b', 'j1', minute(1))).toBe(true);
      // A jti far longer than an index entry may be.
      expect(await tokens.firstUse('did:key:a', 'j'.repeat(3000), minute(5))).toBe(true);
      expect(await tokens.firstUse('did:key:a', 'j'.repeat(3000), minute(5))).toBe(false);
      for (let i = 0; i < 5100; i += 100) {
        await t.db.knex('used_tokens').insert(Array.from({ length: 100 }, (_, k) => ({ token_key: `bulk-${i + k}`, expires_at: minute(-1) })));
      }

      expect(await tokens.sweep()).toBe(5100);
      expect(Number((await t.db.knex('used_tokens').count({ n: '*' }).first())?.n)).toBe(3);
      now = minute(2);
      expect(await tokens.sweep()).toBe(2);
      expect(await tokens.firstUse('did:key:a', 'j1', minute(1))).toBe(true);
      expect(await tokens.firstUse('did:key:a', 'j'.repeat(3000), minute(5))).toBe(false);
    } finally {
      await t.drop();
    }
  });
});
