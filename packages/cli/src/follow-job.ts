/**
 * Following an installation job's log until it ends, through the client's
 * followInstallation (which reconnects from the number of lines received),
 * and the exit codes of a job's final status.
 */
import { installationStatusName, isTerminalStatus, registry, type Identity } from '@griot/client';
import type { KeyFileKeyPair } from '@griot/did';
import { CliError, ExitCode } from './cli-error';
import type { CommandContext } from './command';
import { toCliError } from './grpc-call';

/** `completed`, `failed`, ... for an installation status. */
export const statusName = installationStatusName;

/** The exit code a job's status gives: 0 completed, 5 failed or cancelled, 6 not finished. */
export function exitCodeForStatus(s: registry.InstallationStatus): number {
  if (s === registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED) return ExitCode.OK;
  if (isTerminalStatus(s)) return ExitCode.JOB_FAILED;
  return ExitCode.JOB_NOT_FINISHED;
}

/**
 * Follows a job, printing its lines (to stdout, or stderr with --json), and
 * returns the exit code its final status gives.
 *
 * @param ctx - The command context.
 * @param jobId - The job.
 * @param reader - Who reads the log (the job's node, its creator or an
 *   operator): each (re)connection carries a fresh token of it.
 */
export async function followAndReport(ctx: CommandContext, jobId: string, reader: Identity | KeyFileKeyPair): Promise<number> {
  try {
    for await (const event of ctx.clients.griot().registry.followInstallation(jobId, { identity: reader, signal: ctx.signal })) {
      // With --json, one JSON object per line as the lines arrive, then one for the outcome.
      if (event.kind === 'line') {
        ctx.out(ctx.json ? JSON.stringify({ jobId, index: event.index, line: event.line }) : event.line);
        continue;
      }
      if (ctx.json) ctx.out(JSON.stringify({ jobId, status: event.statusName, statusMessage: event.statusMessage, lineCount: event.lineCount }));
      else ctx.out(`job ${jobId} ${event.statusName}${event.statusMessage ? `: ${event.statusMessage}` : ''}`);
      return exitCodeForStatus(event.status);
    }
  } catch (err: unknown) {
    if (ctx.signal.aborted) throw new CliError('interrupted', ExitCode.INTERRUPTED);
    throw toCliError(err, ctx.clients.registryEndpoint);
  }
  throw new CliError(`the log of job ${jobId} ended without its final status`, ExitCode.UNAVAILABLE);
}
