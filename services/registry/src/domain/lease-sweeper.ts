/**
 * Ends expired leases on a timer: a running job whose agent stopped renewing
 * goes back to pending, or fails after the last attempt. Every replica runs
 * one; SKIP LOCKED keeps them out of each other's way.
 *
 * The sweep works job by job, in batches of {@link SWEEP_BATCH} (at most
 * {@link SWEEP_MAX_BATCHES} per tick), so one job cannot stop the others: a
 * job whose lease cannot be ended with its log checkpointed into
 * `installations.logs` (a log too large for one array, a failing write) is
 * ended without the checkpoint (its lines stay in the side table, where
 * readers read them); a job that fails even so is logged and skipped until
 * the next tick, and the sweep goes on with the next job.
 */
import { Periodic, type Logger } from '@griot/server-kit';
import type { InstallationRecord, InstallationsRepository } from '../repository/installations-repository';

/** Jobs read per batch of a sweep. */
export const SWEEP_BATCH = 100;

/** Batches per tick at most (the rest waits for the next tick). */
export const SWEEP_MAX_BATCHES = 20;

/** What a sweeper needs. */
export interface LeaseSweeperOptions {
  /** Claims a job gets before an expired lease fails it. */
  maxAttempts: number;
  /** Where expiries and failures are logged. */
  logger: Logger;
  /** Told how many jobs a sweep changed, when it changed any. */
  onExpired?: (count: number) => void;
}

/** One sweep: every expired lease, job by job; failures are logged and skipped. */
export async function sweepExpiredLeases(repository: InstallationsRepository, options: LeaseSweeperOptions): Promise<InstallationRecord[]> {
  const changed: InstallationRecord[] = [];
  const skipped: string[] = [];
  for (let batch = 0; batch < SWEEP_MAX_BATCHES; batch++) {
    const jobIds = await repository.findExpiredLeases(SWEEP_BATCH, skipped);
    for (const jobId of jobIds) {
      const row = await expireOne(repository, jobId, options);
      if (row === 'failed') skipped.push(jobId);
      else if (row) changed.push(row);
    }
    if (jobIds.length < SWEEP_BATCH) break;
  }
  return changed;
}

async function expireOne(repository: InstallationsRepository, jobId: string, options: LeaseSweeperOptions): Promise<InstallationRecord | undefined | 'failed'> {
  try {
    return await repository.expireLease(jobId, options.maxAttempts, true);
  } catch (err) {
    options.logger.warn({ err, jobId }, 'checkpointing the log of a job whose lease expired failed; ending the lease without the checkpoint');
  }
  try {
    return await repository.expireLease(jobId, options.maxAttempts, false);
  } catch (err) {
    options.logger.error({ err, jobId }, 'ending an expired lease failed; skipping this job until the next sweep');
    return 'failed';
  }
}

/** Sweeps expired leases: once on demand, and every interval once started. */
export class LeaseSweeper {
  private readonly periodic = new Periodic(async () => {
    try {
      const rows = await sweepExpiredLeases(this.repository, this.options);
      for (const row of rows) this.options.logger.info({ jobId: row.jobId, status: row.status, attempts: row.attempts }, 'installation lease expired');
      if (rows.length > 0) this.options.onExpired?.(rows.length);
      return rows.length;
    } catch (err) {
      this.options.logger.warn({ err }, 'lease sweep failed; retrying on the next tick');
      return 0;
    }
  });

  /**
   * @param repository - The installations.
   * @param options - Attempts, logger and expiry counter.
   */
  constructor(
    private readonly repository: InstallationsRepository,
    private readonly options: LeaseSweeperOptions,
  ) {}

  /** Sweeps once now (a sweep already running is joined, not repeated); resolves with the number of jobs changed. */
  sweep(): Promise<number> {
    return this.periodic.run();
  }

  /** Sweeps every `intervalMs` from now on. */
  start(intervalMs: number): void {
    this.periodic.every(intervalMs, () => void this.sweep());
  }

  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }
}
