/**
 * `griot install REF --node FILE [--follow]`: a node creates an installation
 * job for itself; `griot install REF --target DID --key FILE`: an operator
 * creates one for any node.
 */
import { parseDid } from '@griot/did';
import type { registry } from '@griot/proto';
import { CliError, usageError } from '../cli-error';
import type { Command } from '../command';
import { followAndReport } from '../follow-job';
import { unary } from '../grpc-call';
import { callerMetadata, loadCallerKey } from '../key-files';
import { findPackage, packageLabel } from '../package-ref';

/** The install command. */
export const installCommand: Command = {
  name: 'install',
  usage: 'install NAME@VERSION|PACKAGE_ID (--node FILE | --target DID --key FILE) [--follow]',
  summary: 'create a job that installs the package on a node and print the job id: a node for itself (--node), an operator for any node (--target, --key); --follow streams its log',
  options: { node: { type: 'string', short: 'n' }, key: { type: 'string', short: 'k' }, target: { type: 'string' }, follow: { type: 'boolean', short: 'f' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const target = ctx.string('target');
    if (target !== undefined) {
      try {
        parseDid(target);
      } catch (err: unknown) {
        throw usageError(`--target ${JSON.stringify(target)} is not a did:key (${(err as Error).message})`);
      }
    }
    const caller = await loadCallerKey(ctx, 'a node installs on itself with --node FILE; an operator installs on another node with --target DID --key FILE', { node: true });
    const targetNodeId = target ?? caller.did;
    const pkg = await findPackage(ctx, ctx.args[0]!);
    const client = ctx.clients.registry();
    const res = await unary<registry.CreateInstallationResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.createInstallation({ packageId: pkg.packageId, targetNodeId }, md, o, cb),
      callerMetadata(caller, ctx.audience),
    );
    const job = res.installation;
    if (!job) throw new CliError('the registry answered no job');
    if (pkg.yanked) ctx.info(`note: ${packageLabel(pkg)} is yanked${pkg.yankReason ? `: ${pkg.yankReason}` : ''}`, true);
    if (ctx.options['follow'] !== true) {
      ctx.result({ jobId: job.jobId, packageId: pkg.packageId, targetNodeId, createdBy: job.createdBy || caller.did, installOrder: job.installOrder }, () => {
        ctx.info(`job for ${packageLabel(pkg)} on ${targetNodeId} created; follow it with: griot logs ${job.jobId} -f ${target === undefined ? '--node' : '--key'} FILE`);
        return job.jobId;
      });
      return 0;
    }
    ctx.info(`job ${job.jobId}: install ${packageLabel(pkg)} on ${targetNodeId}`, true);
    return followAndReport(ctx, job.jobId, caller);
  },
};
