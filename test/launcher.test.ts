/**
 * `pnpm start` (services/griot.ts) as a real process: both services come up on
 * the embedded defaults (one embedded PostgreSQL server under the data
 * folder), wired together; on SIGTERM a health watcher sees NOT_SERVING, the
 * stream ends, the process exits 0 and the embedded server is gone. A second
 * launcher on the same data folder is refused with a clear error, and the
 * server does not outlive a launcher that is SIGKILLed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { health } from '@griot/proto';
import { spawnTs, waitForExit, waitForLogLine } from '@griot/test/support/process';
import { processAlive } from '@griot/postgres-server';
import { waitUntilGone } from '@griot/test/support/kill-tree';

const { SERVING, NOT_SERVING } = health.HealthCheckResponse_ServingStatus;

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'griot-launcher-'));
  // As root the embedded server runs as the user postgres, which must reach the folder (mkdtemp makes it 0700).
  chmodSync(dataDir, 0o755);
});

/** The launcher on the data folder, on the embedded PostgreSQL server (the tests' default is PGlite). */
function startLauncher() {
  return spawnTs('services/griot.ts', { REGISTRY_LISTEN: '127.0.0.1:0', CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: dataDir, GRIOT_EMBEDDED_DATABASE: 'postgres', REGISTRY_ADMIN_LISTEN: '127.0.0.1:0', CONTENT_ADMIN_LISTEN: '127.0.0.1:0' });
}

/** The embedded server's postmaster, from its lock file. */
function postmasterPid(): number {
  return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('starts both services wired together and stops gracefully on SIGTERM', async () => {
  const child = startLauncher();
  const exited = waitForExit(child);
  const ready = await waitForLogLine(child, 'griot is ready');
  const postgres = postmasterPid();
  expect(processAlive(postgres)).toBe(true);
  const registryAddr = String(ready.registry);
  const contentAddr = String(ready.contentStore);
  expect(registryAddr).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(contentAddr).not.toBe(registryAddr);

  const client = new health.HealthClient(registryAddr, credentials.createInsecure());
  const watch = client.watch({ service: 'griot.registry.v1.RegistryService' });
  const statuses: number[] = [];
  const ended = new Promise<void>((resolve) => {
    watch.on('data', (m: health.HealthCheckResponse) => {
      statuses.push(m.status);
      if (m.status === SERVING) child.kill('SIGTERM');
    });
    watch.on('end', () => resolve());
    watch.on('error', () => resolve());
  });
  await ended;
  const result = await exited;
  client.close();
  expect(statuses).toEqual([SERVING, NOT_SERVING]);
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('"msg":"starting the embedded database"');
  expect(result.stdout).toContain('"msg":"applying migrations"');
  // Stopped with the launcher, not left to the watchdog.
  expect(processAlive(postgres)).toBe(false);
});

it('refuses a second launcher on the same data folder with a clear error, and keeps the first one serving', async () => {
  const first = startLauncher();
  const firstExited = waitForExit(first);
  const ready = await waitForLogLine(first, 'griot is ready');

  const second = await waitForExit(startLauncher());
  expect(second.code).toBe(1);
  expect(second.stderr).toBe(
    `griot: failed to start: the database folder ${join(dataDir, 'postgres')} is in use by another PostgreSQL server (PID ${postmasterPid()}): ` +
      'another process (a second griot on the same GRIOT_DATA_DIR?) is running on it; stop it or choose another data folder\n',
  );

  const client = new health.HealthClient(String(ready.registry), credentials.createInsecure());
  const status = await new Promise<number>((resolve, reject) =>
    client.check({ service: 'griot.registry.v1.RegistryService' }, (err, res) => (err ? reject(err) : resolve(res!.status))),
  );
  client.close();
  expect(status).toBe(SERVING);
  first.kill('SIGTERM');
  expect((await firstExited).code).toBe(0);
});

it('does not leave the embedded server behind when the launcher is SIGKILLed', async () => {
  const child = startLauncher();
  const exited = waitForExit(child);
  await waitForLogLine(child, 'griot is ready');
  const postgres = postmasterPid();
  child.kill('SIGKILL');
  await exited;
  await waitUntilGone(postgres);
});

it('stops the content store and the embedded server when the registry cannot start', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const port = (busy.address() as AddressInfo).port;
    const child = spawnTs('services/griot.ts', { REGISTRY_LISTEN: `127.0.0.1:${port}`, CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: dataDir, GRIOT_EMBEDDED_DATABASE: 'postgres', REGISTRY_ADMIN_LISTEN: '', CONTENT_ADMIN_LISTEN: '' });
    const exited = waitForExit(child);
    await waitForLogLine(child, 'content store listening');
    const postgres = postmasterPid();
    const result = await exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`griot: failed to start: .*127\\.0\\.0\\.1:${port}`));
    // Stopped by the launcher before it exited, not left to the watchdog.
    expect(processAlive(postgres)).toBe(false);
  } finally {
    busy.close();
  }
});
