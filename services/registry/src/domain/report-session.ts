/**
 * One agent's report stream on one claimed job: log lines are written in
 * batches (one statement and one NOTIFY per batch: an INSERT into the log
 * lines table and an UPDATE of the job's row). Lines are written at once when
 * the last write began at least a flush interval ago, and otherwise wait for
 * the rest of that interval (or until N lines are waiting), so a quiet job's
 * line reaches its watchers without a wait and a busy job's writes are at
 * most one per interval. Status changes are written at once, and the
 * lease is renewed while the stream is open. Every checkpoint interval, the
 * next batch also checkpoints the log into `installations.logs` (and a final
 * status always does; see the installations repository). Writes are fenced
 * by the claim's attempt number, so an agent whose lease expired cannot write
 * over a newer claim.
 */
import { failedPrecondition, requireMaxLength, requireNoNul, resourceExhausted } from '@griot/server-kit';
import { assertReportable, isTerminal, type JobStatus } from './installation-state';
import type { InstallationRecord, InstallationsRepository } from '../repository/installations-repository';

/** Longest status message, in characters. */
const MAX_STATUS_MESSAGE_LENGTH = 4096;

/** Limits and timings of a report session. */
export interface ReportSessionOptions {
  /** Lease granted on each write and renewal. */
  leaseMs: number;
  /** Least time between the starts of two writes of lines; also the longest a line waits to be written. */
  flushIntervalMs: number;
  /** Buffered lines that force a write. */
  flushLines: number;
  /** Longest log line, in characters. */
  maxLineLength: number;
  /**
   * Longest time between two checkpoints of the log into
   * `installations.logs` while the job runs (a final status always checkpoints).
   */
  checkpointIntervalMs: number;
  /** Most lines a job's log holds (REGISTRY_MAX_LOG_LINES_PER_JOB). */
  maxLogLines?: number;
  /** Most UTF-8 bytes a job's log holds (REGISTRY_MAX_LOG_BYTES_PER_JOB). */
  maxLogBytes?: number;
}

/** A report stream on a running job. */
export class ReportSession {
  private buffer: string[] = [];
  private pendingStatus?: { status: JobStatus; message: string };
  private final?: JobStatus;
  private chain: Promise<void> = Promise.resolve();
  private failure?: unknown;
  private flushTimer?: NodeJS.Timeout;
  private readonly renewTimer: NodeJS.Timeout;
  private last?: InstallationRecord;
  private lastWrite = Date.now();
  /** When the last write of lines was queued (performance.now()); -Infinity before the first. */
  private lastFlush = -Infinity;
  private lastCheckpoint = Date.now();
  /** The lines of the write being made (for the limit's message). */
  private pendingLines: string[] = [];

  constructor(
    private readonly repository: InstallationsRepository,
    readonly jobId: string,
    private readonly attempt: number,
    private readonly options: ReportSessionOptions,
  ) {
    const every = Math.max(10, Math.floor(options.leaseMs / 3));
    this.renewTimer = setInterval(() => {
      if (Date.now() - this.lastWrite < every) return;
      this.enqueue(async () => {
        if (!(await this.repository.renewLease(this.jobId, this.attempt, this.options.leaseMs))) await this.lostClaim();
        this.lastWrite = Date.now();
      });
    }, every);
    this.renewTimer.unref();
  }

  /**
   * Takes one report message: buffers its lines and applies its status.
   * @throws INVALID_ARGUMENT for bad lines or a status an agent cannot report,
   *   FAILED_PRECONDITION after a final status or when the claim was lost.
   */
  async accept(lines: string[], status: JobStatus | undefined, statusMessage: string): Promise<void> {
    this.throwIfFailed();
    if (this.final && (lines.length > 0 || status !== undefined)) {
      throw failedPrecondition('JOB_FINAL', `job ${this.jobId} was already reported ${this.final}, which is final; nothing more can be reported`, {
        jobId: this.jobId,
        status: this.final,
      });
    }
    lines.forEach((line, i) => requireNoNul(`log_lines[${i}]`, requireMaxLength(`log_lines[${i}]`, line, this.options.maxLineLength)));
    if (status !== undefined) assertReportable(status);
    requireMaxLength('status_message', statusMessage, MAX_STATUS_MESSAGE_LENGTH);
    this.buffer.push(...lines);
    if (status !== undefined && isTerminal(status)) {
      this.final = status;
      this.pendingStatus = { status, message: statusMessage };
      await this.flush();
    } else if (status === 'running') {
      if (statusMessage) this.pendingStatus = { status, message: statusMessage };
      await this.flush();
    } else if (this.buffer.length >= this.options.flushLines) {
      await this.flush();
    } else if (this.buffer.length > 0 && !this.flushTimer) {
      const wait = this.lastFlush + this.options.flushIntervalMs - performance.now();
      if (wait <= 0) await this.flush();
      else this.flushTimer = setTimeout(() => void this.flush(), wait);
    }
  }

  /** Writes what is buffered and answers the job as it is now. */
  async close(): Promise<InstallationRecord> {
    await this.flush();
    this.dispose();
    this.throwIfFailed();
    if (this.last) return this.last;
    const row = await this.repository.findById(this.jobId, false);
    return row!;
  }

  /** Stops the timers (the stream ended, well or not). */
  dispose(): void {
    clearInterval(this.renewTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Rethrows a failed background write. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Queues a write of the buffer; resolves when the write before it is done
   * (so that at most one write is in flight and the reader slows down
   * rather than piling up batches).
   */
  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.length === 0 && !this.pendingStatus) return this.chain;
    const lines = this.buffer;
    const status = this.pendingStatus;
    if (lines.length > 0) this.lastFlush = performance.now();
    this.buffer = [];
    this.pendingStatus = undefined;
    const previous = this.chain;
    this.enqueue(async () => {
      // Decided when the write starts, so a slow database does not bunch checkpoints up.
      const checkpoint = Date.now() - this.lastCheckpoint >= this.options.checkpointIntervalMs;
      const row = await this.repository.appendReport({
        jobId: this.jobId,
        attempt: this.attempt,
        lines,
        status: status?.status,
        statusMessage: status?.message,
        leaseMs: this.options.leaseMs,
        checkpoint,
        maxLines: this.options.maxLogLines,
        maxBytes: this.options.maxLogBytes,
      });
      this.lastWrite = Date.now();
      if (checkpoint) this.lastCheckpoint = this.lastWrite;
      if (!row) await this.lostClaim();
      else this.last = row;
    }, lines);
    return status && isTerminal(status.status) ? this.chain : previous;
  }

  private enqueue(write: () => Promise<void>, lines: string[] = []): void {
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      this.pendingLines = lines;
      try {
        await write();
      } catch (err) {
        this.failure = err;
      }
    });
  }

  /** The job is no longer this claim's running job, or its log is full: say why. */
  private async lostClaim(): Promise<never> {
    const row = await this.repository.findById(this.jobId, false);
    if (row && row.status === 'running' && row.attempts === this.attempt) {
      const lines = this.pendingLines.length;
      const bytes = this.pendingLines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
      const maxLines = this.options.maxLogLines ?? Infinity;
      const byLines = row.logCount + lines > maxLines;
      const limit = byLines ? 'REGISTRY_MAX_LOG_LINES_PER_JOB' : 'REGISTRY_MAX_LOG_BYTES_PER_JOB';
      const max = byLines ? maxLines : (this.options.maxLogBytes ?? Infinity);
      throw resourceExhausted(
        'LOG_LIMIT_EXCEEDED',
        `the log of job ${this.jobId} holds ${row.logCount} lines (${row.logBytes} bytes); ${lines} more lines (${bytes} bytes) would pass ${limit} = ${max}; ` +
          'those lines were not written; a final status without lines is still taken',
        { jobId: this.jobId, limit, max, logCount: row.logCount, logBytes: row.logBytes },
      );
    }
    if (row && isTerminal(row.status)) {
      throw failedPrecondition('JOB_FINAL', `job ${this.jobId} is ${row.status}${row.statusMessage ? ` (${row.statusMessage})` : ''}; nothing more can be reported`, {
        jobId: this.jobId,
        status: row.status,
      });
    }
    throw failedPrecondition('LEASE_LOST', `the lease of job ${this.jobId} expired and the job was given back to be claimed again; claim it again before reporting`, {
      jobId: this.jobId,
    });
  }
}
