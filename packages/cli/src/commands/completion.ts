/**
 * `griot completion bash|zsh`: prints a shell completion script.
 */
import { usageError } from '../cli-error';
import type { Command } from '../command';
import { bashCompletion, zshCompletion } from '../help';

/** The completion command. */
export const completionCommand: Command = {
  name: 'completion',
  usage: 'completion bash|zsh',
  summary: 'print a completion script for bash or zsh (source <(griot completion bash))',
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx) {
    // Loaded when run: the command table and the global options import this module.
    const { COMMANDS } = await import('./index');
    const { GLOBAL_OPTIONS } = await import('../cli');
    const globals = Object.keys(GLOBAL_OPTIONS);
    const shell = ctx.args[0];
    if (shell === 'bash') ctx.io.stdout.write(bashCompletion(COMMANDS, globals));
    else if (shell === 'zsh') ctx.io.stdout.write(zshCompletion(COMMANDS, globals));
    else throw usageError(`no completion for ${JSON.stringify(shell)}: bash or zsh`);
  },
};
