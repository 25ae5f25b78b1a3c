/**
 * Both ends of a job's log for fault tests: a watcher that reconnects the
 * way the CLI does (`from_line` = lines received) but checks every message
 * strictly instead of skipping what it already has, and an agent's report
 * stream that the test drives batch by batch.
 */
import { status as grpcStatus, type ClientWritableStream, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { nodeAuth, type Identity } from './fixtures';

const S = registry.InstallationStatus;
const TERMINAL = new Set([S.INSTALLATION_STATUS_COMPLETED, S.INSTALLATION_STATUS_FAILED, S.INSTALLATION_STATUS_CANCELLED]);
const RETRYABLE = new Set([grpcStatus.UNAVAILABLE, grpcStatus.INTERNAL, grpcStatus.UNKNOWN, grpcStatus.CANCELLED, grpcStatus.ABORTED, grpcStatus.DEADLINE_EXCEEDED]);

/** A watcher following a job until its final status. */
export interface StrictWatcher {
  /** Every line received, in order. */
  readonly lines: string[];
  /** How many streams ended in an error and were reopened. */
  readonly reconnects: number;
  /** The `from_line` of each stream opened. */
  readonly fromLines: number[];
  /** Resolves with the final status and message; rejects on a gap, an overlap or a non-retryable error. */
  readonly done: Promise<{ status: registry.InstallationStatus; statusMessage: string }>;
  /** Resolves once at least `count` lines arrived. */
  waitForLines(count: number, timeoutMs?: number): Promise<void>;
  /** Stops following. */
  stop(): void;
}

/**
 * Follows a job: WatchInstallation from line 0; when the stream fails with
 * a retryable code, opens a new one with `from_line` = lines received, on
 * the client `clientFor()` returns at that moment (so a test can move the
 * watcher to another replica). Each message must start exactly at the line
 * count so far: a duplicate or a gap fails the watcher.
 *
 * @param clientFor - The client to open the next stream on.
 * @param jobId - The job.
 * @param auth - Makes the metadata of each watch: a caller token of the job's node, its creator or an operator.
 * @param giveUpAfterMs - How long to keep reconnecting without any message.
 */
export function watchStrictly(clientFor: () => registry.RegistryServiceClient, jobId: string, auth: () => Metadata, giveUpAfterMs = 20_000): StrictWatcher {
  const lines: string[] = [];
  const fromLines: number[] = [];
  let reconnects = 0;
  let stopped = false;
  let current: { cancel(): void } | undefined;
  const waiters: { count: number; resolve: () => void }[] = [];
  const wake = (): void => {
    for (const w of [...waiters]) {
      if (lines.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const done = (async () => {
    let lastProgress = Date.now();
    for (;;) {
      if (stopped) throw new Error('stopped');
      let status = S.INSTALLATION_STATUS_UNSPECIFIED;
      let statusMessage = '';
      fromLines.push(lines.length);
      const stream = clientFor().watchInstallation({ jobId, fromLine: lines.length }, auth());
      current = stream;
      try {
        for await (const raw of stream) {
          const msg = raw as registry.WatchInstallationResponse;
          lastProgress = Date.now();
          if (msg.firstLine !== lines.length) {
            throw new Error(`message at line ${msg.firstLine} (${msg.lines.length} lines) after ${lines.length} lines: ${msg.firstLine < lines.length ? 'duplicate' : 'gap'}`);
          }
          lines.push(...msg.lines);
          status = msg.status;
          statusMessage = msg.statusMessage;
          wake();
        }
        if (TERMINAL.has(status)) return { status, statusMessage };
        throw new Error(`the watch ended without a final status (last ${registry.installationStatusToJSON(status)})`);
      } catch (err: unknown) {
        const code = (err as Partial<ServiceError>).code;
        if (stopped || code === undefined || !RETRYABLE.has(code) || Date.now() - lastProgress > giveUpAfterMs) throw err;
        reconnects += 1;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  done.catch(() => undefined);

  return {
    lines,
    get reconnects() {
      return reconnects;
    },
    fromLines,
    done,
    waitForLines(count, timeoutMs = 20_000) {
      if (lines.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${lines.length} of ${count} lines after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        done.catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      });
    },
    stop() {
      stopped = true;
      current?.cancel();
    },
  };
}

/** An agent's open ReportInstallation stream on one job. */
export interface ReportStream {
  /** Sends log lines (and a status, if given). */
  send(lines: string[], status?: registry.InstallationStatus, statusMessage?: string): void;
  /** Ends the stream; resolves with the registry's answer. */
  close(): Promise<registry.Installation>;
  /** Settles when the stream ends: the answer, or the error it failed with. */
  readonly ended: Promise<{ installation?: registry.Installation; error?: ServiceError }>;
}

/** Opens a ReportInstallation stream as `node` on `jobId`. */
export function openReport(client: registry.RegistryServiceClient, node: Identity, jobId: string): ReportStream {
  let call!: ClientWritableStream<registry.ReportInstallationRequest>;
  const ended = new Promise<{ installation?: registry.Installation; error?: ServiceError }>((resolve) => {
    call = client.reportInstallation(nodeAuth(node), (err, res) => resolve(err ? { error: err } : { installation: res!.installation }));
  });
  return {
    send(lines, status = S.INSTALLATION_STATUS_UNSPECIFIED, statusMessage = '') {
      call.write({ jobId, logLines: lines, status, statusMessage });
    },
    async close() {
      call.end();
      const result = await ended;
      if (result.error) throw result.error;
      return result.installation!;
    },
    ended,
  };
}
