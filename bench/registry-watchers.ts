/**
 * The watchers of the registry's watch benchmark, in a process of their own
 * (so that decoding 1,000 streams does not share an event loop with the
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
 * The 1,000 streams carry 5M lines/s, all decoded on the machine's two cores
 * next to the servers under test. Turning each line into a JS string through
 * the generated decoder cost ~1.3 µs per line (6.5 CPU seconds of a 10 s run,
 * more than both replicas together), so the watchers read the wire format
 * directly: the send time and the line number are parsed from each line's
 * bytes, and nothing else is copied. Every line is still read and checked.
 * For the same reason the watches are plain HTTP/2 requests with gRPC's
 * framing (node:http2, one connection per replica as grpc-js would use),
 * without a gRPC client's per-message machinery: at 1,000 watchers the
 * grpc-js client took more CPU than both replicas together. A watch fails
 * unless its trailers say grpc-status 0.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { registry } from '@griot/proto';

const WATCH_PATH = '/griot.registry.v1.RegistryService/WatchInstallation';
const SPACE = 0x20;
const DOT = 0x2e;

/** What a watcher does with each line: its send time (ms since the epoch) and the number it carries. */
type OnLine = (sendTime: number, number: number) => void;

// Results of the scanners below, in module variables rather than returned tuples: at 5M lines/s
// every allocation per line shows in the watchers' CPU (and so in the latency they measure).
let scanned = 0;
let scannedAt = 0;
let scannedTime = 0;

function varint(buf: Buffer, at: number): void {
  let value = 0;
  let shift = 1;
  for (;;) {
    const byte = buf[at++]!;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) break;
    shift *= 128;
  }
  scanned = value;
  scannedAt = at;
}

/** Reads the send time (`<digits>[.<digits>]`) and the number after `line ` of one line's bytes. */
function scanLine(buf: Buffer, start: number, end: number): void {
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
  scannedTime = whole + fraction / scale;
  scanned = number;
}

/**
 * Reads one WatchInstallationResponse in `buf[start, end)`: calls `onLine`
 * for each line (field 2) and answers its first_line (field 1).
 */
function scanResponse(buf: Buffer, start: number, end: number, onLine: OnLine): number {
  let firstLine = 0;
  let at = start;
  while (at < end) {
    varint(buf, at);
    const tag = scanned;
    at = scannedAt;
    const wireType = tag & 7;
    if (wireType === 0) {
      varint(buf, at);
      if (tag >>> 3 === 1) firstLine = scanned;
      at = scannedAt;
    } else if (wireType === 2) {
      varint(buf, at);
      const length = scanned;
      at = scannedAt;
      if (tag >>> 3 === 2) {
        scanLine(buf, at, at + length);
        onLine(scannedTime, scanned);
      }
      at += length;
    } else {
      throw new Error(`unexpected wire type ${wireType} in a WatchInstallationResponse`);
    }
  }
  return firstLine;
}

/** An HTTP/2 connection to a replica, with windows large enough never to hold a watch back. */
function openSession(address: string): ClientHttp2Session {
  const session = connect(`http://${address}`, { settings: { initialWindowSize: 8 * 1024 * 1024 }, maxSessionMemory: 1024 });
  session.once('connect', () => session.setLocalWindowSize(256 * 1024 * 1024));
  session.on('error', (err) => {
    process.stderr.write(`watchers: connection to ${address} failed: ${err.message}\n`);
    process.exit(1);
  });
  return session;
}

/**
 * One server-streaming call over plain HTTP/2: answers when the response
 * headers arrive (`ready`) and when the stream ended with grpc-status 0
 * (`done`); each complete gRPC message is passed to `onMessage` as a range of a buffer.
 */
function serverStream(session: ClientHttp2Session, path: string, request: Uint8Array, authorization: string, onMessage: (buf: Buffer, start: number, end: number) => void): { ready: Promise<void>; done: Promise<void> } {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', authorization });
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  frame.set(request, 5);
  stream.end(frame);
  let status: string | undefined;
  let message = '';
  // A message cut across chunks is gathered in `partial` (its own exact-size buffer, so that
  // the bytes are copied once); whole messages are read in place.
  const header = Buffer.alloc(5);
  let headerFill = 0;
  let partial: Buffer | undefined;
  let partialFill = 0;
  stream.on('data', (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (partial) {
        const n = Math.min(partial.length - partialFill, chunk.length - at);
        chunk.copy(partial, partialFill, at, at + n);
        partialFill += n;
        at += n;
        if (partialFill < partial.length) return;
        onMessage(partial, 0, partial.length);
        partial = undefined;
        continue;
      }
      if (headerFill > 0 || chunk.length - at < 5) {
        const n = Math.min(5 - headerFill, chunk.length - at);
        chunk.copy(header, headerFill, at, at + n);
        headerFill += n;
        at += n;
        if (headerFill < 5) return;
        headerFill = 0;
        partial = Buffer.allocUnsafe(header.readUInt32BE(1));
        partialFill = 0;
        if (partial.length === 0) {
          onMessage(partial, 0, 0);
          partial = undefined;
        }
        continue;
      }
      const length = chunk.readUInt32BE(at + 1);
      if (chunk.length - at - 5 >= length) {
        onMessage(chunk, at + 5, at + 5 + length);
        at += 5 + length;
      } else {
        partial = Buffer.allocUnsafe(length);
        partialFill = 0;
        at += 5;
      }
    }
  });
  const takeStatus = (headers: Record<string, unknown>): void => {
    if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
    if (headers['grpc-message'] !== undefined) message = decodeURIComponent(String(headers['grpc-message']));
  };
  const ready = new Promise<void>((resolve) => stream.once('response', (headers) => (takeStatus(headers), resolve())));
  stream.on('trailers', takeStatus);
  const done = new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('close', () => (status === '0' ? resolve() : reject(new Error(`watch ended with grpc-status ${status ?? 'none'}: ${message}`))));
  });
  return { ready, done };
}

/** Opens `count` watches of a job spread over the sessions; resolves with the summary once every stream ended. */
async function watchJob(sessions: ClientHttp2Session[], jobId: string, authorizations: string[], total: number, count: number, onReady: () => void): Promise<unknown> {
  // Latencies in a histogram of 0.1 ms buckets (the last one: 60 s and more): 1,000 watchers of 50,000 lines are 50M latencies.
  const histogram = new Uint32Array(600_001);
  let n = 0;
  let max = 0;
  const errors: string[] = [];
  // Worst latency per 5,000 lines (a second of the run), to see whether slow lines bunch up.
  const worstPerSecond: number[] = [];
  const ready: Promise<void>[] = [];
  const request = registry.WatchInstallationRequest.encode(registry.WatchInstallationRequest.fromPartial({ jobId, fromLine: 0 })).finish();
  const done = Array.from({ length: count }, (_, i) => {
    let received = 0;
    // Watching a job needs a caller token of its node, its creator or an operator: the parent's, one per watch (a token is used once).
    let now = 0;
    const onLine: OnLine = (sendTime, number) => {
      if (number !== received && errors.length < 10) errors.push(`watcher ${i}: got line ${number}, expected ${received}`);
      const latency = now - sendTime;
      histogram[Math.min(histogram.length - 1, Math.max(0, Math.round(latency * 10)))]! += 1;
      n++;
      if (latency > max) max = latency;
      const second = Math.floor(number / 5000);
      if (!(worstPerSecond[second]! >= latency)) worstPerSecond[second] = latency;
      received++;
    };
    const stream = serverStream(sessions[i % sessions.length]!, WATCH_PATH, request, authorizations[i]!, (buf, start, end) => {
      now = performance.timeOrigin + performance.now();
      const before = received;
      const firstLine = scanResponse(buf, start, end, onLine);
      if (received > before && firstLine !== before && errors.length < 10) errors.push(`watcher ${i}: message starts at ${firstLine}, expected ${before}`);
    });
    ready.push(stream.ready);
    return stream.done.then(() => received);
  });
  await Promise.all(ready);
  onReady();
  const counts = await Promise.all(done);
  const at = (p: number): number => {
    if (n === 0) return NaN;
    const rank = Math.min(n - 1, Math.floor((p / 100) * n));
    let seen = 0;
    for (let bucket = 0; bucket < histogram.length; bucket++) {
      seen += histogram[bucket]!;
      if (seen > rank) return bucket / 10;
    }
    return max;
  };
  return { counts, p50: at(50), p99: at(99), max: n === 0 ? NaN : max, worstPerSecond, errors };
}

async function main(): Promise<void> {
  const [countText, ...addresses] = process.argv.slice(2);
  const clients = addresses.map(openSession);
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
  // Exit (rather than die) on the parent's SIGTERM, so that --cpu-prof writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.send!({ started: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`watchers failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
