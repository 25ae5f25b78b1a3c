/**
 * Readiness follows the database: with their private PostgreSQL stopped, both
 * services (real processes) answer /readyz 503 with the reason, their gRPC
 * health says NOT_SERVING (Check, and a Watch that was open all along), while
 * /healthz stays 200; once PostgreSQL is back, /readyz is 200 and health
 * SERVING again, without restarting anything. Each change is logged.
 */
import type { ChildProcess } from 'node:child_process';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { health } from '@griot/proto';
import { startPrivatePostgres, type PrivatePostgres } from '@griot/test/support/private-postgres';
import { spawnTs, waitForExit, waitForLogLine } from '@griot/test/support/process';
import { describeIf, privatePostgres } from '@griot/test/support/tools';

const { SERVING, NOT_SERVING } = health.HealthCheckResponse_ServingStatus;

/** A service process with its addresses and every log line it wrote. */
interface Started {
  name: string;
  child: ChildProcess;
  address: string;
  admin: string;
  messages: string[];
  health: health.HealthClient;
  /** Statuses received by a Watch opened at start. */
  watched: health.HealthCheckResponse_ServingStatus[];
}

async function start(name: 'registry' | 'content-store', env: NodeJS.ProcessEnv): Promise<Started> {
  const [entry, ready, adminReady, adminVar] =
    name === 'registry'
      ? ['services/registry/src/main.ts', 'registry listening', 'registry admin listening', 'REGISTRY_ADMIN_LISTEN']
      : ['services/content-store/src/main.ts', 'content store listening', 'content store admin listening', 'CONTENT_ADMIN_LISTEN'];
  const child = spawnTs(entry, { [name === 'registry' ? 'REGISTRY_LISTEN' : 'CONTENT_LISTEN']: '127.0.0.1:0', [adminVar]: '127.0.0.1:0', ...env });
  const messages: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
      } catch {
        // Not JSON.
      }
    }
  });
  const [listening, admin] = await Promise.all([waitForLogLine(child, ready), waitForLogLine(child, adminReady)]);
  const client = new health.HealthClient(String(listening.address), credentials.createInsecure());
  const watched: health.HealthCheckResponse_ServingStatus[] = [];
  const watch = client.watch({ service: '' });
  watch.on('data', (m: health.HealthCheckResponse) => watched.push(m.status));
  watch.on('error', () => undefined);
  return { name, child, address: String(listening.address), admin: String(admin.address), messages, health: client, watched };
}

async function get(admin: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${admin}${path}`);
  return { status: res.status, body: await res.text() };
}

function check(client: health.HealthClient): Promise<health.HealthCheckResponse_ServingStatus | string> {
  return new Promise((resolve) =>
    client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 3000 }, (err: ServiceError | null, res) => resolve(err ? `error ${err.code}` : res.status)),
  );
}

/** Polls until `probe` answers true, or fails after `ms` with what it last saw. */
async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeIf([privatePostgres()])('readiness follows the database', () => {
  let pg: PrivatePostgres;
  const services: Started[] = [];

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    await pg.createDatabase('griot_registry');
    await pg.createDatabase('griot_content');
    const contentStore = await start('content-store', { CONTENT_DATABASE_URL: pg.urlFor('griot_content') });
    services.push(contentStore);
    services.push(await start('registry', { REGISTRY_DATABASE_URL: pg.urlFor('griot_registry'), CONTENT_STORE_ADDR: contentStore.address }));
  }, 120_000);

  afterAll(async () => {
    for (const s of services) {
      s.health.close();
      s.child.kill('SIGTERM');
      await waitForExit(s.child, 20_000).catch(() => s.child.kill('SIGKILL'));
    }
    await pg?.destroy();
  }, 60_000);

  it('goes not ready while PostgreSQL is down and ready again when it is back, over HTTP and gRPC health', async () => {
    for (const s of services) {
      expect(await get(s.admin, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
      expect(await get(s.admin, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
      expect(await check(s.health)).toBe(SERVING);
    }

    await pg.stop();
    for (const s of services) {
      let last = { status: 0, body: '' };
      await until(`${s.name} /readyz 503`, 20_000, async () => (last = await get(s.admin, '/readyz')).status === 503);
      expect(last.body).toMatch(/^not ready: database: .+\n$/);
      expect(last.body.split('\n')).toHaveLength(2);
      await until(`${s.name} health NOT_SERVING`, 10_000, async () => (await check(s.health)) === NOT_SERVING);
      await until(`${s.name} watch NOT_SERVING`, 10_000, async () => s.watched.at(-1) === NOT_SERVING);
      // Alive all the same: a liveness probe must not restart it.
      expect((await get(s.admin, '/healthz')).status).toBe(200);
      expect(s.messages).toContain('not ready');
    }

    await pg.start();
    for (const s of services) {
      await until(`${s.name} /readyz 200`, 30_000, async () => (await get(s.admin, '/readyz')).status === 200);
      await until(`${s.name} health SERVING`, 10_000, async () => (await check(s.health)) === SERVING);
      await until(`${s.name} watch SERVING`, 10_000, async () => s.watched.at(-1) === SERVING);
      expect(s.watched).toEqual([SERVING, NOT_SERVING, SERVING]);
      expect(s.messages).toContain('ready: every dependency answers again');
      expect(s.child.exitCode).toBeNull();
    }
  }, 120_000);
});
