/**
 * Entry point of the `griot` command: runs the CLI on process.argv and exits
 * with its code. A first SIGINT/SIGTERM asks the command to stop (an agent
 * finishes its job); a second one exits at once.
 */
import { runCli } from './cli';
import { ExitCode } from './cli-error';

// A reader that went away (`griot search --json | head -1`) ends the command quietly, as for cat.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (controller.signal.aborted) process.exit(ExitCode.INTERRUPTED);
    controller.abort();
  });
}

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`griot: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = ExitCode.FAILURE;
  },
);
