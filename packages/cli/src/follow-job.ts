/**
 * Following an installation job's log until it ends, reconnecting with the
 * number of lines already received when the stream drops.
 */
import { status, type Metadata } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { CliError, ExitCode } from './cli-error';
import type { CommandContext } from './command';
import { isServiceError, toCliError } from './grpc-call';

const TERMINAL = new Set([registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED, registry.InstallationStatus.INSTALLATION_STATUS_FAILED, registry.InstallationStatus.INSTALLATION_STATUS_CANCELLED]);

/** True for COMPLETED, FAILED and CANCELLED. */
export function isTerminal(s: registry.InstallationStatus): boolean {
  return TERMINAL.has(s);
}

/** `completed`, `failed`, ... for an installation status. */
export function statusName(s: registry.InstallationStatus): string {
  return registry.installationStatusToJSON(s).replace('INSTALLATION_STATUS_', '').toLowerCase();
}

/** The exit code a job's status gives: 0 completed, 5 failed or cancelled, 6 not finished. */
export function exitCodeForStatus(s: registry.InstallationStatus): number {
  if (s === registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED) return ExitCode.OK;
  if (isTerminal(s)) return ExitCode.JOB_FAILED;
  return ExitCode.JOB_NOT_FINISHED;
}

/** How a followed job ended. */
export interface FollowOutcome {
  /** The final status. */
  readonly status: registry.InstallationStatus;
  /** The final status message. */
  readonly statusMessage: string;
  /** The number of log lines received. */
  readonly lineCount: number;
}

const RETRYABLE = new Set([status.UNAVAILABLE, status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED, status.ABORTED, status.RESOURCE_EXHAUSTED, status.CANCELLED]);

/**
 * Streams a job's log lines to `onLine` from line `fromLine` until the job
 * ends. Dropped streams are resumed where they stopped; lines are never
 * repeated or skipped.
 *
 * @param ctx - The command context.
 * @param jobId - The job.
 * @param auth - Makes the metadata of each (re)connection: a fresh token of
 *   the job's node, its creator or an operator.
 * @param onLine - Receives each line and its index.
 * @param fromLine - Lines already known.
 * @param giveUpAfterMs - How long to keep retrying without any answer.
 */
export async function followJob(
  ctx: CommandContext,
  jobId: string,
  auth: () => Metadata,
  onLine: (line: string, index: number) => void,
  fromLine = 0,
  giveUpAfterMs = 60_000,
): Promise<FollowOutcome> {
  let count = fromLine;
  let current = registry.InstallationStatus.INSTALLATION_STATUS_UNSPECIFIED;
  let message = '';
  let lastProgress = Date.now();
  let delay = 200;
  for (;;) {
    if (ctx.signal.aborted) throw new CliError('interrupted', ExitCode.INTERRUPTED);
    const stream = ctx.clients.registry().watchInstallation({ jobId, fromLine: count }, auth());
    const abort = (): void => stream.cancel();
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      for await (const raw of stream) {
        const msg = raw as registry.WatchInstallationResponse;
        lastProgress = Date.now();
        delay = 200;
        msg.lines.forEach((line, i) => {
          const index = msg.firstLine + i;
          if (index < count) return; // already printed before a reconnect
          count = index + 1;
          onLine(line, index);
        });
        current = msg.status;
        message = msg.statusMessage;
      }
      if (isTerminal(current)) return { status: current, statusMessage: message, lineCount: count };
    } catch (err: unknown) {
      if (ctx.signal.aborted) throw new CliError('interrupted', ExitCode.INTERRUPTED);
      if (!isServiceError(err) || !RETRYABLE.has(err.code) || Date.now() - lastProgress > giveUpAfterMs) {
        throw toCliError(err, ctx.clients.registryEndpoint);
      }
      if (isTerminal(current)) return { status: current, statusMessage: message, lineCount: count };
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
    if (Date.now() - lastProgress > giveUpAfterMs) {
      throw new CliError(`the registry at ${ctx.clients.registryEndpoint.address} stopped sending the log of job ${jobId}`, ExitCode.UNAVAILABLE);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

/**
 * Follows a job, printing its lines (to stdout, or stderr with --json), and
 * returns the exit code its final status gives.
 *
 * @param ctx - The command context.
 * @param jobId - The job.
 * @param auth - Makes the metadata of each (re)connection.
 */
export async function followAndReport(ctx: CommandContext, jobId: string, auth: () => Metadata): Promise<number> {
  // With --json, one JSON object per line as the lines arrive, then one for the outcome.
  const outcome = await followJob(ctx, jobId, auth, (line, index) => {
    if (ctx.json) ctx.out(JSON.stringify({ jobId, index, line }));
    else ctx.out(line);
  });
  const name = statusName(outcome.status);
  if (ctx.json) ctx.out(JSON.stringify({ jobId, status: name, statusMessage: outcome.statusMessage, lineCount: outcome.lineCount }));
  else ctx.out(`job ${jobId} ${name}${outcome.statusMessage ? `: ${outcome.statusMessage}` : ''}`);
  return exitCodeForStatus(outcome.status);
}
