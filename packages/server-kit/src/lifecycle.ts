/**
 * Process lifecycle of a service entry point: a configuration error is one
 * line and exit code 2; SIGTERM or SIGINT runs the graceful stop once and
 * exits 0; a second signal exits at once.
 */
import { DataFolderInUseError } from '@griot/postgres-server';
import { ConfigError } from './config';
import { tuneHeapGrowth } from './heap-growth';

/** What a started program gives back: how to stop it gracefully. */
export type Stop = () => Promise<void>;

/** Runs a program until SIGTERM/SIGINT, then stops it and exits. The process runs with {@link tuneHeapGrowth}'s heap growth. */
export function runUntilSignalled(start: () => Promise<Stop>, describe = 'griot'): void {
  tuneHeapGrowth();
  let stopping = false;
  start()
    .then((stop) => {
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          process.stderr.write(`${describe}: ${signal} again, exiting now\n`);
          process.exit(1);
        }
        stopping = true;
        stop().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`${describe}: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    })
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${describe}: invalid configuration: ${err.message}\n`);
        process.exit(2);
      }
      // A data folder in use is the user's situation, not a bug: the message alone says what to do.
      const detail = err instanceof DataFolderInUseError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${describe}: failed to start: ${detail}\n`);
      process.exit(1);
    });
}
