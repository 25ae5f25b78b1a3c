/**
 * The watchers of the registry's watch benchmark, in a process of their own
 * (so that decoding 100 streams does not share an event loop with the
 * servers under test). Started by bench/registry.ts with fork(): argv is
 * `<jobId> <count> <address>...`; watchers are spread over the addresses, and
 * the process sends back `{ latencies, counts }` when every stream has ended.
 * Each line starts with its send time (ms since the epoch, fractional).
 */
import { credentials } from '@grpc/grpc-js';
import { registry } from '@griot/proto';

async function main(): Promise<void> {
  const [jobId, countText, ...addresses] = process.argv.slice(2);
  const clients = addresses.map((a) => new registry.RegistryServiceClient(a, credentials.createInsecure()));
  const latencies: number[] = [];
  const ready: Promise<void>[] = [];
  const done = Array.from({ length: Number(countText) }, (_, i) =>
    new Promise<number>((resolve, reject) => {
      let received = 0;
      const stream = clients[i % clients.length]!.watchInstallation({ jobId: jobId!, fromLine: 0 });
      ready.push(new Promise((r) => stream.once('metadata', () => r())));
      stream.on('data', (m: registry.WatchInstallationResponse) => {
        const now = performance.timeOrigin + performance.now();
        for (const line of m.lines) latencies.push(now - Number(line.slice(0, line.indexOf(' '))));
        received += m.lines.length;
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(received));
    }),
  );
  await Promise.all(ready);
  process.send!({ ready: true });
  const counts = await Promise.all(done);
  process.send!({ latencies, counts }, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`watchers failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
