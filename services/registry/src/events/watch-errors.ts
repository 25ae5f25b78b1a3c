/**
 * Errors of installation watches.
 */
import { Code, GriotError } from '@griot/server-kit';

/** OUT_OF_RANGE: the watcher says it has more lines than the log holds. */
export function outOfRangeError(jobId: string, fromLine: number, logCount: number): GriotError {
  return new GriotError(
    Code.OUT_OF_RANGE,
    'FROM_LINE_OUT_OF_RANGE',
    `from_line ${fromLine} is past the end of job ${jobId}'s log, which has ${logCount} lines`,
    { metadata: { jobId, fromLine, logCount }, fieldViolations: [{ field: 'from_line', description: `must be at most ${logCount}, the number of log lines so far` }] },
  );
}
