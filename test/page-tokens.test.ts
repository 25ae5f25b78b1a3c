/**
 * Page tokens are signed, through the real services on PostgreSQL and
 * PGlite: on each List (ListPackages, ListInstallations, ListPackageOwners'
 * audit pages, ListManifests) a forged token (an odd cursor id or time, in
 * the old unsigned format or under the real signature), a token with a
 * flipped byte, and one signed by another deployment are INVALID_ARGUMENT
 * INVALID_PAGE_TOKEN, never INTERNAL; a token of another query is
 * INVALID_ARGUMENT PAGE_TOKEN_QUERY_MISMATCH. On PostgreSQL, replicas share
 * the key kept in the database, and REGISTRY_PAGE_TOKEN_KEY makes another
 * deployment whose tokens the first refuses.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { content, registry } from '@griot/proto';
import { readRegistryConfig, startRegistry, type RunningRegistry } from '@griot/registry';
import { silentLogger } from '@griot/server-kit';
import { expectFailure } from '@griot/test/support/content-store';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { callerAuth, CONTENT_AUDIENCE, newIdentity, publishTestPackage, unary } from '@griot/test/support/fixtures';
import { startTestContentStore, type StartedService } from '@griot/test/support/services';

/** A List call: its first page, or the page of `token`, with the filters of `query` (0 or 1). */
type ListCall = (client: Clients, token: string, query?: number) => Promise<{ items: number; next: string }>;

interface Clients {
  registry: registry.RegistryServiceClient;
  content: content.ContentServiceClient;
}

const author = newIdentity();
const node = newIdentity();
const otherOwner = newIdentity();
const NAMES = ['pt-a', 'pt-b', 'pt-c'];

/** Every paged List, each over at least two items. */
const LISTS: [string, ListCall][] = [
  [
    'ListPackages',
    async (c, pageToken, query = 0) => {
      const r = await unary<registry.ListPackagesRequest, registry.ListPackagesResponse>(c.registry.listPackages.bind(c.registry), {
        ...registry.ListPackagesRequest.fromPartial({}),
        nodeClass: query === 0 ? 'worker' : 'edge',
        pageSize: 1,
        pageToken,
      });
      return { items: r.packages.length, next: r.nextPageToken };
    },
  ],
  [
    'ListInstallations',
    async (c, pageToken, query = 0) => {
      const r = await unary<registry.ListInstallationsRequest, registry.ListInstallationsResponse>(
        c.registry.listInstallations.bind(c.registry),
        { ...registry.ListInstallationsRequest.fromPartial({}), targetNodeId: query === 0 ? node.did : '', pageSize: 1, pageToken },
        callerAuth(node),
      );
      return { items: r.installations.length, next: r.nextPageToken };
    },
  ],
  [
    'ListPackageOwners',
    async (c, pageToken, query = 0) => {
      const r = await unary<registry.ListPackageOwnersRequest, registry.ListPackageOwnersResponse>(c.registry.listPackageOwners.bind(c.registry), {
        name: NAMES[query]!,
        pageSize: 1,
        pageToken,
      });
      return { items: r.audit.length, next: r.nextPageToken };
    },
  ],
  [
    'ListManifests',
    async (c, pageToken, query = 0) => {
      const r = await unary<content.ListManifestsRequest, content.ListManifestsResponse>(c.content.listManifests.bind(c.content), {
        ...content.ListManifestsRequest.fromPartial({}),
        tags: { suite: query === 0 ? 'page-tokens' : 'other' },
        pageSize: 1,
        pageToken,
      });
      return { items: r.manifests.length, next: r.nextPageToken };
    },
  ],
];

/** The two parts of a signed token, the first decoded. */
function parts(token: string): { body: Record<string, unknown>; signature: string } {
  const [body, signature] = token.split('.') as [string, string];
  return { body: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>, signature };
}

const encode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** The same cursor with each field made odd: strings an SQL fragment, numbers beyond any time. */
function oddCursor(cursor: Record<string, unknown>, odd: 'id' | 'time'): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cursor).map(([k, v]) => [k, k === 't' ? (odd === 'time' ? '99999999999999999999' : v) : odd === 'id' ? (typeof v === 'number' ? 1e300 : "x' OR 1=1 --") : v]));
}

/** Forged variants of a real token, by what makes them forged. */
function forgeries(token: string): [string, string][] {
  const { body, signature } = parts(token);
  const cursor = body['c'] as Record<string, unknown>;
  const flipAt = Math.floor(token.indexOf('.') / 2);
  const flipped = `${token.slice(0, flipAt)}${token[flipAt] === 'A' ? 'B' : 'A'}${token.slice(flipAt + 1)}`;
  const rawBody = token.slice(0, token.indexOf('.'));
  // The audit cursor of ListPackageOwners has no time.
  const odd: ('id' | 'time')[] = 't' in cursor ? ['id', 'time'] : ['id'];
  return [
    ...odd.map((what): [string, string] => [`an odd cursor ${what}, unsigned (the old format)`, encode({ v: 1, q: body['q'], c: oddCursor(cursor, what) })]),
    ...odd.map((what): [string, string] => [`an odd cursor ${what} under the real signature`, `${encode({ ...body, c: oddCursor(cursor, what) })}.${signature}`]),
    ['a flipped byte', flipped],
    ['the signature of another deployment', `${rawBody}.${createHmac('sha256', randomBytes(32)).update('griot.page-token.v2\n').update(rawBody).digest('base64url')}`],
    ['no signature', rawBody],
  ];
}

describe.each(DB_KINDS)('page tokens on %s', (kind) => {
  let contentStore: StartedService;
  let contentClient: content.ContentServiceClient;
  const registries: { service: RunningRegistry; client: registry.RegistryServiceClient }[] = [];
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  const clients = (i = 0): Clients => ({ registry: registries[i]!.client, content: contentClient });

  async function startReplica(env: NodeJS.ProcessEnv = {}): Promise<number> {
    const config = readRegistryConfig({
      REGISTRY_LISTEN: '127.0.0.1:0',
      REGISTRY_DATABASE_URL: databaseUrl,
      GRIOT_DATA_DIR: join(dataDir, `replica-${registries.length}`),
      CONTENT_STORE_ADDR: contentStore.address,
      GRIOT_EMBEDDED_DATABASE: 'pglite',
      ...env,
    });
    const service = await startRegistry(config, silentLogger());
    registries.push({ service, client: new registry.RegistryServiceClient(service.address, credentials.createInsecure()) });
    return registries.length - 1;
  }

  beforeAll(async () => {
    contentStore = await startTestContentStore(kind);
    contentClient = new content.ContentServiceClient(contentStore.address, credentials.createInsecure());
    dataDir = mkdtempSync(join(tmpdir(), 'griot-page-tokens-'));
    const pg = kind === 'postgres' ? await createPostgresDatabase() : undefined;
    dropDatabase = pg?.drop;
    databaseUrl = pg?.url;
    await startReplica();
    const c = { registry: registries[0]!.client, content: contentClient };
    for (const name of NAMES) {
      const pkg = await publishTestPackage(c, author, { name, version: '1.0.0' });
      await unary<registry.AddPackageOwnerRequest, registry.AddPackageOwnerResponse>(c.registry.addPackageOwner.bind(c.registry), { name, ownerDid: otherOwner.did }, callerAuth(author));
      await unary<registry.RemovePackageOwnerRequest, registry.RemovePackageOwnerResponse>(c.registry.removePackageOwner.bind(c.registry), { name, ownerDid: otherOwner.did }, callerAuth(author));
      await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(c.registry.createInstallation.bind(c.registry), { packageId: pkg.packageId, targetNodeId: node.did }, callerAuth(node));
    }
    for (let i = 0; i < 3; i++) {
      await unary<content.CreateManifestRequest, content.CreateManifestResponse>(
        contentClient.createManifest.bind(contentClient),
        { manifestId: '', classId: '5f0c3c52-8d1a-4b7e-9a43-0d6b2f1e7c11', unpackerName: 'labox.file@v1', tags: { suite: 'page-tokens' }, contents: [] },
        callerAuth(author, CONTENT_AUDIENCE),
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const r of registries) {
      r.client.close();
      await r.service.stop(1000);
    }
    contentClient?.close();
    await contentStore?.stop();
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe.each(LISTS)('%s', (_name, list) => {
    it('pages with the tokens it issues, to the end', async () => {
      let page = await list(clients(), '');
      let seen = page.items;
      while (page.next !== '') {
        page = await list(clients(), page.next);
        seen += page.items;
      }
      expect(seen).toBeGreaterThanOrEqual(2);
    });

    it('refuses every forged token with INVALID_ARGUMENT INVALID_PAGE_TOKEN', async () => {
      const { next } = await list(clients(), '');
      expect(next).not.toBe('');
      for (const [what, forged] of forgeries(next)) {
        const got = await expectFailure(list(clients(), forged));
        expect({ what, code: got.code, reason: got.reason }).toEqual({ what, code: status.INVALID_ARGUMENT, reason: 'INVALID_PAGE_TOKEN' });
      }
    });

    it('refuses a token of another query with INVALID_ARGUMENT PAGE_TOKEN_QUERY_MISMATCH', async () => {
      const { next } = await list(clients(), '');
      expect(await expectFailure(list(clients(), next, 1))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'PAGE_TOKEN_QUERY_MISMATCH' });
    });
  });

  // Replicas share one database only on PostgreSQL (a PGlite database lives in one process).
  if (kind === 'postgres') describe('across replicas', () => {
    it('a replica accepts the tokens of another on the same database, not those of a deployment with another key', async () => {
      const sameDeployment = await startReplica();
      const keyed = await startReplica({ REGISTRY_PAGE_TOKEN_KEY: 'k'.repeat(32) });
      const keyedToo = await startReplica({ REGISTRY_PAGE_TOKEN_KEY: 'k'.repeat(32) });
      const [, listPackages] = LISTS[0]!;
      const first = await list0(listPackages, 0);
      // The same second page, from either replica of the deployment.
      expect(await listPackages(clients(sameDeployment), first.next)).toEqual(await listPackages(clients(0), first.next));
      // A deployment with its own key refuses the token, and its tokens are refused here.
      expect(await expectFailure(listPackages(clients(keyed), first.next))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_PAGE_TOKEN' });
      const keyedFirst = await list0(listPackages, keyed);
      expect(await expectFailure(listPackages(clients(0), keyedFirst.next))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_PAGE_TOKEN' });
      expect((await listPackages(clients(keyedToo), keyedFirst.next)).items).toBe(1);
    });

    async function list0(list: ListCall, replica: number) {
      const page = await list(clients(replica), '');
      expect(page.next).not.toBe('');
      return page;
    }
  });
});
