/**
 * `griot jobs ls` and `griot jobs cancel`: the installation jobs the caller may see, and cancelling one.
 */
import { registry } from '@griot/proto';
import { CliError, ExitCode, usageError } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { statusName } from '../follow-job';
import { unary } from '../grpc-call';
import { callerMetadata, loadCallerKey, loadKey } from '../key-files';
import type { KeyFileKeyPair } from '@griot/did';

const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;

/**
 * Parses `--status`: pending, running, completed, failed or cancelled.
 *
 * @throws {@link CliError} (usage) for anything else.
 */
export function parseJobStatus(text: string | undefined): registry.InstallationStatus {
  if (text === undefined || text === '') return registry.InstallationStatus.INSTALLATION_STATUS_UNSPECIFIED;
  const lower = text.toLowerCase();
  if (!(STATUSES as readonly string[]).includes(lower)) throw usageError(`--status must be one of ${STATUSES.join(', ')}, not ${JSON.stringify(text)}`);
  return registry.installationStatusFromJSON(`INSTALLATION_STATUS_${lower.toUpperCase()}`);
}

/**
 * The caller of `jobs ls` and the node filter: `--node did:key:...` filters on
 * that node and the caller is `--key` (or GRIOT_KEY); `--node FILE` is the node
 * itself, calling and filtered on.
 */
async function jobsCaller(ctx: CommandContext): Promise<{ caller: KeyFileKeyPair; nodeDid: string }> {
  const node = ctx.string('node');
  if (node !== undefined && node.startsWith('did:')) {
    return { caller: await loadCallerKey(ctx, 'jobs are listed for an operator, their creator or their node'), nodeDid: node };
  }
  if (node !== undefined && node !== '') {
    if (ctx.string('key')) throw usageError('give --key FILE with --node DID, or --node FILE alone');
    const keyPair = await loadKey(node, 'node');
    return { caller: keyPair, nodeDid: keyPair.did };
  }
  return { caller: await loadCallerKey(ctx, 'jobs are listed for an operator, their creator or their node'), nodeDid: '' };
}

/** A job as printed with --json. */
export function jobJson(job: registry.Installation): Record<string, unknown> {
  return {
    jobId: job.jobId,
    packageId: job.packageId,
    targetNodeId: job.targetNodeId,
    status: statusName(job.status),
    statusMessage: job.statusMessage,
    attempts: job.attempts,
    createdBy: job.createdBy,
    createdAt: job.createdAt?.toISOString() ?? null,
    completedAt: job.completedAt?.toISOString() ?? null,
  };
}

/** The jobs ls command. */
export const jobsLsCommand: Command = {
  name: 'jobs ls',
  usage: 'jobs ls [--status S] [--node DID] (--key FILE | --node FILE) [--limit N]',
  summary: 'list installation jobs, newest first: all of them for an operator, else those the caller created or runs',
  options: { status: { type: 'string' }, node: { type: 'string', short: 'n' }, key: { type: 'string', short: 'k' }, limit: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const status = parseJobStatus(ctx.string('status'));
    const limit = Number(ctx.string('limit') ?? '100');
    if (!Number.isInteger(limit) || limit <= 0) throw usageError('--limit must be a positive integer');
    const { caller, nodeDid } = await jobsCaller(ctx);
    const client = ctx.clients.registry();
    const jobs: registry.Installation[] = [];
    let pageToken = '';
    do {
      const req: registry.ListInstallationsRequest = { status, targetNodeId: nodeDid, packageId: '', pageSize: Math.min(limit - jobs.length, 100), pageToken };
      const res = await unary<registry.ListInstallationsResponse>(
        ctx.clients.registryEndpoint,
        (md, o, cb) => client.listInstallations(req, md, o, cb),
        callerMetadata(caller, ctx.audience),
      );
      jobs.push(...res.installations);
      pageToken = res.nextPageToken;
    } while (pageToken !== '' && jobs.length < limit);
    const shown = jobs.slice(0, limit);
    ctx.result({ jobs: shown.map(jobJson) }, () => {
      if (shown.length === 0) return 'no job matches';
      const rows = shown.map((j) => [j.jobId, statusName(j.status), j.packageId.slice(0, 12), j.targetNodeId, j.createdAt?.toISOString() ?? '']);
      const header = ['JOB', 'STATUS', 'PACKAGE', 'NODE', 'CREATED'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    });
  },
};

/** The jobs cancel command. */
export const jobsCancelCommand: Command = {
  name: 'jobs cancel',
  usage: 'jobs cancel JOB (--key FILE | --node FILE) [--reason TEXT]',
  summary: 'cancel a pending or running job, as its creator, its node or an operator',
  options: { key: { type: 'string', short: 'k' }, node: { type: 'string', short: 'n' }, reason: { type: 'string' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const jobId = ctx.args[0]!;
    const caller = await loadCallerKey(ctx, 'a job is cancelled by its creator, its node or an operator', { node: true });
    const client = ctx.clients.registry();
    const res = await unary<registry.CancelInstallationResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.cancelInstallation({ jobId, reason: ctx.string('reason') ?? '' }, md, o, cb),
      callerMetadata(caller, ctx.audience),
    );
    const job = res.installation;
    if (!job) throw new CliError(`job ${jobId} not found`, ExitCode.NOT_FOUND);
    ctx.result(jobJson(job), () => `job ${jobId} ${statusName(job.status)}${job.statusMessage ? `: ${job.statusMessage}` : ''}`);
  },
};
