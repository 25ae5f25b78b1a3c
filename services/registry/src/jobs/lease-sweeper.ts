/**
 * Ends expired leases on a timer: a running job whose agent stopped renewing
 * goes back to pending, or fails after the last attempt. Every replica runs
 * one; SKIP LOCKED keeps them out of each other's way.
 */
import type { Logger } from '@griot/server-kit';
import type { InstallationsRepository } from '../repository/installations-repository';

/** A running sweeper. */
export interface LeaseSweeper {
  /** Sweeps once now (tests, and the timer). */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/** Starts sweeping every `intervalMs`. */
export function startLeaseSweeper(repository: InstallationsRepository, options: { intervalMs: number; maxAttempts: number; logger: Logger; onExpired?: (count: number) => void }): LeaseSweeper {
  let running: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    running ??= repository
      .expireLeases(options.maxAttempts)
      .then((rows) => {
        for (const row of rows) options.logger.info({ jobId: row.jobId, status: row.status, attempts: row.attempts }, 'installation lease expired');
        if (rows.length > 0) options.onExpired?.(rows.length);
        return rows.length;
      })
      .catch((err: unknown) => {
        options.logger.warn({ err }, 'lease sweep failed; retrying on the next tick');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), options.intervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
