/**
 * `griot logs JOB [-f] (--node FILE | --key FILE)`: a job's log, read as its
 * node, its creator or an operator; the exit code says whether it completed.
 */
import type { registry } from '@griot/proto';
import { CliError, ExitCode } from '../cli-error';
import type { Command } from '../command';
import { exitCodeForStatus, followAndReport, statusName } from '../follow-job';
import { unary } from '../grpc-call';
import { callerMetadata, loadCallerKey } from '../key-files';

/** The logs command. */
export const logsCommand: Command = {
  name: 'logs',
  usage: 'logs JOB [-f] (--node FILE | --key FILE)',
  summary: "print the log of a job, as its node, its creator or an operator; -f follows it until it ends (exit 0 completed, 5 failed/cancelled, 6 not finished)",
  options: { follow: { type: 'boolean', short: 'f' }, node: { type: 'string', short: 'n' }, key: { type: 'string', short: 'k' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const jobId = ctx.args[0]!;
    const caller = await loadCallerKey(ctx, "a job's log is read with a token of its node, its creator or an operator", { node: true });
    const auth = () => callerMetadata(caller, ctx.audience);
    if (ctx.options['follow'] === true) return followAndReport(ctx, jobId, caller);
    const client = ctx.clients.registry();
    const res = await unary<registry.GetInstallationResponse>(ctx.clients.registryEndpoint, (md, o, cb) => client.getInstallation({ jobId }, md, o, cb), auth());
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
        createdBy: job.createdBy,
        createdAt: job.createdAt?.toISOString() ?? null,
        completedAt: job.completedAt?.toISOString() ?? null,
      },
      () => [...job.logs, `job ${jobId} ${name}${job.statusMessage ? `: ${job.statusMessage}` : ''}`],
    );
    return exitCodeForStatus(job.status);
  },
};
