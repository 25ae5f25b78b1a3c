/**
 * The life of an installation job: pending → running → completed | failed,
 * cancelled from pending or running, and nothing after a final status.
 */
import { failedPrecondition, invalidField } from '@griot/server-kit';

/** A job's status as stored in `installations.status`. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Every job status. */
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];

/** The final statuses: nothing changes a job after one of them. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** True for completed, failed and cancelled. */
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const ALLOWED: Record<JobStatus, readonly JobStatus[]> = {
  pending: ['running', 'cancelled'],
  running: ['running', 'pending', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

/** True when a job may go from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return ALLOWED[from].includes(to);
}

/**
 * Checks a transition.
 * @throws FAILED_PRECONDITION JOB_FINAL for a job in a final status, INVALID_TRANSITION otherwise.
 */
export function assertTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (canTransition(from, to)) return;
  if (isTerminal(from)) {
    throw failedPrecondition('JOB_FINAL', `job ${jobId} is ${from}, which is final; it cannot become ${to}`, { jobId, status: from, requested: to });
  }
  throw failedPrecondition('INVALID_TRANSITION', `job ${jobId} is ${from}; it cannot become ${to}${from === 'pending' ? ' before its agent claims it' : ''}`, {
    jobId,
    status: from,
    requested: to,
  });
}

/**
 * The statuses an agent may report: RUNNING (renews the lease), COMPLETED or FAILED.
 * @throws INVALID_ARGUMENT INVALID_REPORTED_STATUS otherwise.
 */
export function assertReportable(status: JobStatus): void {
  if (status === 'running' || status === 'completed' || status === 'failed') return;
  throw invalidField(
    'status',
    'INVALID_REPORTED_STATUS',
    status === 'cancelled'
      ? 'an agent cannot report CANCELLED; call CancelInstallation'
      : `an agent reports RUNNING, COMPLETED or FAILED, not ${status.toUpperCase()}`,
  );
}
