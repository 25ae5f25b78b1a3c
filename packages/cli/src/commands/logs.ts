/**
 * `griot logs JOB [-f]`: a job's log; the exit code says whether it completed.
 */
import type { registry } from '@griot/proto';
import { CliError, ExitCode } from '../cli-error';
import type { Command } from '../command';
import { exitCodeForStatus, followAndReport, statusName } from '../follow-job';
import { unary } from '../grpc-call';

/** The logs command. */
export const logsCommand: Command = {
  name: 'logs',
  usage: 'logs JOB [-f]',
  summary: 'print the log of a job; -f follows it until it ends (exit 0 completed, 5 failed/cancelled, 6 not finished)',
  options: { follow: { type: 'boolean', short: 'f' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const jobId = ctx.args[0]!;
    if (ctx.options['follow'] === true) return followAndReport(ctx, jobId);
    const client = ctx.clients.registry();
    const res = await unary<registry.GetInstallationResponse>(ctx.clients.registryEndpoint, (md, o, cb) => client.getInstallation({ jobId }, md, o, cb));
    const job = res.installation;
    if (!job) throw new CliError(`job ${jobId} not found`, ExitCode.NOT_FOUND);
    const name = statusName(job.status);
    ctx.result(
      {
        jobId,
        status: name,
        statusMessage: job.statusMessage,
        logs: job.logs,
        packageId: job.packageId,
        targetNodeId: job.targetNodeId,
        createdAt: job.createdAt?.toISOString() ?? null,
        completedAt: job.completedAt?.toISOString() ?? null,
      },
      () => [...job.logs, `job ${jobId} ${name}${job.statusMessage ? `: ${job.statusMessage}` : ''}`],
    );
    return exitCodeForStatus(job.status);
  },
};
