/**
 * `griot agent --node FILE --root DIR [--trust FILE]`: the node's agent.
 */
import { resolve } from 'node:path';
import { runAgent } from '../agent';
import { usageError } from '../cli-error';
import type { Command } from '../command';
import { loadKey } from '../key-files';
import { readTrustPolicy } from '../trust-policy';

/** The agent command. */
export const agentCommand: Command = {
  name: 'agent',
  usage: 'agent --node FILE --root DIR [--trust FILE] [--once] [--wait-ms N]',
  summary:
    "run the node's agent: claim its jobs, install packages under DIR/packages, report logs and status; --trust FILE: accept only the authors the policy allows per name (else: the name's current owners per the registry)",
  options: { node: { type: 'string', short: 'n' }, root: { type: 'string' }, trust: { type: 'string' }, once: { type: 'boolean' }, 'wait-ms': { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const trustFile = ctx.string('trust');
    // The policy is checked first: a broken one stops the agent before it claims anything.
    const trust = trustFile !== undefined ? { policy: await readTrustPolicy(trustFile), source: trustFile } : undefined;
    const node = await loadKey(ctx.required('node'), 'node');
    const root = resolve(ctx.required('root'));
    const waitMillis = Number(ctx.string('wait-ms') ?? '10000');
    if (!Number.isInteger(waitMillis) || waitMillis < 0) throw usageError('--wait-ms must be a non-negative integer');
    const stamp = (): string => new Date().toISOString();
    await runAgent({
      clients: ctx.clients,
      node,
      root,
      audience: ctx.audience,
      signal: ctx.signal,
      once: ctx.options['once'] === true,
      waitMillis,
      trust,
      log: (line) => (ctx.json ? ctx.out(JSON.stringify({ time: stamp(), line })) : ctx.out(`${stamp()} ${line}`)),
    });
  },
};
