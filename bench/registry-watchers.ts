/**
 * The watchers of the registry's watch benchmark, in a process of their own
 * (so that decoding 100 streams does not share an event loop with the
 * reporter or the servers under test). Started by bench/registry.ts with
 * fork(): argv is `<count> <address>...`; for each `{ jobId, lines, authorizations }` the
 * parent sends, it opens `count` watches spread over the addresses, answers
 * `{ ready }` once all are open and `{ summary }` once all ended. Each line is `<send time> line <n> …`, the send time in
 * ms since the epoch (fractional) read by the reporter from the same clock as
 * here. Every watcher checks that it gets lines 0, 1, 2, … exactly once and
 * in order, each message starting where the previous one ended; the summary
 * has the counts, latency percentiles over every line of every watcher, and
 * any violations.
 *
 * The 100 streams carry 500k lines/s, all decoded on the machine's two cores
 * next to the servers under test. Turning each line into a JS string through
 * the generated decoder cost ~1.3 µs per line (6.5 CPU seconds of a 10 s run,
 * more than both replicas together), so the watchers read the wire format
 * directly: the send time and the line number are parsed from each line's
 * bytes, and nothing else is copied. Every line is still read and checked.
 */
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { registry } from '@griot/proto';

const WATCH_PATH = '/griot.registry.v1.RegistryService/WatchInstallation';
const SPACE = 0x20;
const DOT = 0x2e;

/** A WatchInstallationResponse as the benchmark needs it. */
interface ScannedResponse {
  /** Field 1. */
  firstLine: number;
  /** Field 2, each line's send time and number. */
  sendTimes: number[];
  /** The number each line carries. */
  numbers: number[];
}

function varint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 1;
  for (;;) {
    const byte = buf[at++]!;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return [value, at];
    shift *= 128;
  }
}

/** Reads the send time (`<digits>[.<digits>]`) and the number after `line ` of one line's bytes. */
function scanLine(buf: Buffer, start: number, end: number): [sendTime: number, number: number] {
  let at = start;
  let whole = 0;
  while (at < end && buf[at] !== SPACE && buf[at] !== DOT) whole = whole * 10 + (buf[at++]! - 48);
  let fraction = 0;
  let scale = 1;
  if (buf[at] === DOT) {
    at++;
    while (at < end && buf[at] !== SPACE) {
      fraction = fraction * 10 + (buf[at++]! - 48);
      scale *= 10;
    }
  }
  at += 6; // ' line '
  let number = 0;
  while (at < end && buf[at] !== SPACE) number = number * 10 + (buf[at++]! - 48);
  return [whole + fraction / scale, number];
}

function scanResponse(buf: Buffer): ScannedResponse {
  const out: ScannedResponse = { firstLine: 0, sendTimes: [], numbers: [] };
  let at = 0;
  while (at < buf.length) {
    const [tag, afterTag] = varint(buf, at);
    at = afterTag;
    const wireType = tag & 7;
    if (wireType === 0) {
      const [value, next] = varint(buf, at);
      if (tag >>> 3 === 1) out.firstLine = value;
      at = next;
    } else if (wireType === 2) {
      const [length, next] = varint(buf, at);
      if (tag >>> 3 === 2) {
        const [sendTime, number] = scanLine(buf, next, next + length);
        out.sendTimes.push(sendTime);
        out.numbers.push(number);
      }
      at = next + length;
    } else {
      throw new Error(`unexpected wire type ${wireType} in a WatchInstallationResponse`);
    }
  }
  return out;
}

/** Opens `count` watches of a job spread over the clients; resolves with the summary once every stream ended. */
async function watchJob(clients: Client[], jobId: string, authorizations: string[], total: number, count: number, onReady: () => void): Promise<unknown> {
  const latencies = new Float64Array(total * count);
  let n = 0;
  const errors: string[] = [];
  // Worst latency per 5,000 lines (a second of the run), to see whether slow lines bunch up.
  const worstPerSecond: number[] = [];
  const ready: Promise<void>[] = [];
  const serialize = (r: registry.WatchInstallationRequest) => Buffer.from(registry.WatchInstallationRequest.encode(r).finish());
  const done = Array.from({ length: count }, (_, i) =>
    new Promise<number>((resolve, reject) => {
      let received = 0;
      // Watching a job needs a caller token of its node, its creator or an operator: the parent's, one per watch (a token is used once).
      const metadata = new Metadata();
      metadata.set('authorization', authorizations[i]!);
      const stream = clients[i % clients.length]!.makeServerStreamRequest(WATCH_PATH, serialize, scanResponse, registry.WatchInstallationRequest.fromPartial({ jobId, fromLine: 0 }), metadata);
      ready.push(new Promise((r) => stream.once('metadata', () => r())));
      stream.on('data', (m: ScannedResponse) => {
        const now = performance.timeOrigin + performance.now();
        if (m.numbers.length > 0 && m.firstLine !== received && errors.length < 10) errors.push(`watcher ${i}: message starts at ${m.firstLine}, expected ${received}`);
        for (let k = 0; k < m.numbers.length; k++) {
          if (m.numbers[k] !== received && errors.length < 10) errors.push(`watcher ${i}: got line ${m.numbers[k]}, expected ${received}`);
          const latency = now - m.sendTimes[k]!;
          if (n < latencies.length) latencies[n++] = latency;
          const second = Math.floor(m.numbers[k]! / 5000);
          worstPerSecond[second] = Math.max(worstPerSecond[second] ?? 0, latency);
          received++;
        }
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(received));
    }),
  );
  await Promise.all(ready);
  onReady();
  const counts = await Promise.all(done);
  const sorted = latencies.subarray(0, n).sort();
  const at = (p: number) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.floor((p / 100) * n))]!);
  return { counts, p50: at(50), p99: at(99), max: n === 0 ? NaN : sorted[n - 1]!, worstPerSecond, errors };
}

async function main(): Promise<void> {
  const [countText, ...addresses] = process.argv.slice(2);
  const clients = addresses.map((a) => new Client(a, credentials.createInsecure()));
  // One job at a time, as the parent asks: `{ jobId, lines, authorizations }` → `{ ready: true }`, then `{ summary }`.
  process.on('message', (m: { jobId: string; lines: number; authorizations: string[] }) => {
    watchJob(clients, m.jobId, m.authorizations, m.lines, Number(countText), () => process.send!({ ready: true })).then(
      (summary) => process.send!({ summary }),
      (err: unknown) => {
        process.stderr.write(`watchers failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });
  process.send!({ started: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`watchers failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
