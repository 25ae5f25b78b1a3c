/**
 * `griot agent --node FILE --root DIR`: the node's agent.
 */
import { resolve } from 'node:path';
import { runAgent } from '../agent';
import { usageError } from '../cli-error';
import type { Command } from '../command';
import { loadKey } from '../key-files';

/** The agent command. */
export const agentCommand: Command = {
  name: 'agent',
  usage: 'agent --node FILE --root DIR [--once] [--wait-ms N]',
  summary: "run the node's agent: claim its jobs, install packages under DIR/packages, report logs and status",
  options: { node: { type: 'string', short: 'n' }, root: { type: 'string' }, once: { type: 'boolean' }, 'wait-ms': { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
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
      log: (line) => (ctx.json ? ctx.out(JSON.stringify({ time: stamp(), line })) : ctx.out(`${stamp()} ${line}`)),
    });
  },
};
