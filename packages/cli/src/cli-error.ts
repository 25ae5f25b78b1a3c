/**
 * The CLI's exit codes and the one error type that carries one to the top.
 */

/** Exit codes scripts can rely on. */
export const ExitCode = {
  /** Success; for `logs`/`install --follow`, the job completed. */
  OK: 0,
  /** Something failed: a refused request, a bad file, an integrity check. */
  FAILURE: 1,
  /** The command line is wrong (unknown command or option, missing argument). */
  USAGE: 2,
  /** A service could not be reached. */
  UNAVAILABLE: 3,
  /** The package, job, manifest or file named does not exist. */
  NOT_FOUND: 4,
  /** The job ended failed or cancelled. */
  JOB_FAILED: 5,
  /** The job has not ended yet (`logs` without `-f`). */
  JOB_NOT_FINISHED: 6,
  /** Interrupted by a signal. */
  INTERRUPTED: 130,
} as const;

/** One of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI prints as one line, exiting with its code. */
export class CliError extends Error {
  /**
   * @param message - The line printed after `griot: `.
   * @param exitCode - The process exit code.
   * @param options - The cause, kept for `--verbose`.
   */
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Shorthand for a usage error (exit code 2). */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.USAGE);
}
