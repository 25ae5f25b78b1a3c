/**
 * Following an installation job's log until the job ends, reconnecting with
 * the number of lines already received when the stream drops.
 */
import { status } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { attemptMetadata, backoffDelay, cancelledError, sleep, type CallOptions, type CallSite } from './call';
import { GriotClientError, toGriotClientError } from './errors';

const S = registry.InstallationStatus;
const TERMINAL: ReadonlySet<registry.InstallationStatus> = new Set([S.INSTALLATION_STATUS_COMPLETED, S.INSTALLATION_STATUS_FAILED, S.INSTALLATION_STATUS_CANCELLED]);

/** True for COMPLETED, FAILED and CANCELLED. */
export function isTerminalStatus(s: registry.InstallationStatus): boolean {
  return TERMINAL.has(s);
}

/** `completed`, `failed`, `pending` … for an installation status. */
export function installationStatusName(s: registry.InstallationStatus): string {
  return registry.installationStatusToJSON(s).replace('INSTALLATION_STATUS_', '').toLowerCase();
}

/** The codes after which the log is opened again: the stream dropped, not a refusal. */
const RECONNECT_CODES: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED, status.ABORTED, status.RESOURCE_EXHAUSTED, status.CANCELLED]);

/** One log line of a job. */
export interface FollowLine {
  readonly kind: 'line';
  /** The line's index in the job's log, from 0. */
  readonly index: number;
  /** The line. */
  readonly line: string;
}

/** The end of a job: always the last event. */
export interface FollowEnd {
  readonly kind: 'end';
  /** The final status: COMPLETED, FAILED or CANCELLED. */
  readonly status: registry.InstallationStatus;
  /** Its name: `completed`, `failed` or `cancelled`. */
  readonly statusName: string;
  /** The final status message. */
  readonly statusMessage: string;
  /** The number of lines of the log. */
  readonly lineCount: number;
}

/** What {@link RegistryClient.followInstallation} yields. */
export type FollowEvent = FollowLine | FollowEnd;

/** Options of following a job. */
export interface FollowOptions extends Pick<CallOptions, 'identity' | 'metadata' | 'signal'> {
  /** Lines already known: the log is followed from this line. */
  readonly fromLine?: number;
  /** How long to keep reconnecting without receiving anything (default 60 s). */
  readonly giveUpAfterMs?: number;
}

/**
 * The log of a job, line by line, then its end.
 *
 * @param client - The registry client.
 * @param jobId - The job.
 * @param options - Where to start, who asks, when to give up.
 * @throws {@link GriotClientError} for a refusal, or when the registry stays unreachable for `giveUpAfterMs`.
 */
export async function* followInstallation(
  client: { readonly site: CallSite; readonly raw: registry.RegistryServiceClient },
  jobId: string,
  options: FollowOptions = {},
): AsyncGenerator<FollowEvent, void, undefined> {
  const { site, raw } = client;
  const where = { service: site.service, address: site.address };
  const giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
  const policy = { ...site.retry, initialBackoffMs: 200, maxBackoffMs: 5_000 };
  let count = options.fromLine ?? 0;
  let current: registry.InstallationStatus = S.INSTALLATION_STATUS_UNSPECIFIED;
  let message = '';
  let lastProgress = Date.now();
  let reconnects = 0;
  for (;;) {
    if (options.signal?.aborted) throw cancelledError(site);
    const stream = raw.watchInstallation({ jobId, fromLine: count }, attemptMetadata(site, options));
    const abort = (): void => stream.cancel();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const raw of stream) {
        const msg = raw as registry.WatchInstallationResponse;
        lastProgress = Date.now();
        reconnects = 0;
        for (let i = 0; i < msg.lines.length; i += 1) {
          const index = msg.firstLine + i;
          if (index < count) continue; // already yielded before a reconnect
          count = index + 1;
          yield { kind: 'line', index, line: msg.lines[i]! };
        }
        current = msg.status;
        message = msg.statusMessage;
      }
    } catch (err: unknown) {
      if (options.signal?.aborted) throw cancelledError(site);
      const failure = toGriotClientError(err, where);
      if (!(failure instanceof GriotClientError) || !RECONNECT_CODES.has(failure.code) || Date.now() - lastProgress > giveUpAfterMs) throw failure;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      stream.cancel();
    }
    if (isTerminalStatus(current)) {
      yield { kind: 'end', status: current, statusName: installationStatusName(current), statusMessage: message, lineCount: count };
      return;
    }
    if (Date.now() - lastProgress > giveUpAfterMs) {
      throw new GriotClientError({ code: status.UNAVAILABLE, details: `the registry stopped sending the log of job ${jobId}`, ...where });
    }
    reconnects += 1;
    await sleep(Math.max(policy.initialBackoffMs / 2, backoffDelay(policy, reconnects)), options.signal);
  }
}
