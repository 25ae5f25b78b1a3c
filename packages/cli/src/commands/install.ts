/**
 * `griot install REF --node FILE [--follow]`: creates an installation job as that node.
 */
import type { registry } from '@griot/proto';
import { CliError } from '../cli-error';
import type { Command } from '../command';
import { followAndReport } from '../follow-job';
import { unary } from '../grpc-call';
import { loadKey, nodeMetadata } from '../key-files';
import { findPackage, packageLabel } from '../package-ref';

/** The install command. */
export const installCommand: Command = {
  name: 'install',
  usage: 'install NAME@VERSION|PACKAGE_ID --node FILE [--follow]',
  summary: "create a job that installs the package on the node (as the node) and print the job id; --follow streams its log",
  options: { node: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const node = await loadKey(ctx.required('node'), 'node');
    const pkg = await findPackage(ctx, ctx.args[0]!);
    const client = ctx.clients.registry();
    const res = await unary<registry.CreateInstallationResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.createInstallation({ packageId: pkg.packageId, targetNodeId: node.did }, md, o, cb),
      nodeMetadata(node, ctx.audience),
    );
    const job = res.installation;
    if (!job) throw new CliError('the registry answered no job');
    if (ctx.options['follow'] !== true) {
      ctx.result({ jobId: job.jobId, packageId: pkg.packageId, targetNodeId: node.did, installOrder: job.installOrder }, () => {
        ctx.info(`job for ${packageLabel(pkg)} on ${node.did} created; follow it with: griot logs ${job.jobId} -f`);
        return job.jobId;
      });
      return 0;
    }
    ctx.info(`job ${job.jobId}: install ${packageLabel(pkg)} on ${node.did}`, true);
    return followAndReport(ctx, job.jobId);
  },
};
