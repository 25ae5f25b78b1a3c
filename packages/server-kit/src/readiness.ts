/**
 * Readiness: whether a service can do its job now. A loop runs cheap checks
 * (the database answers `select 1`, the default storage answers its probe)
 * every second or two; `/readyz` answers the last outcome, and the gRPC
 * health service follows it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { GriotError } from './errors';
import { isDiskFullError, isOutOfFilesError } from './grpc-status';

/** One thing a service needs to be ready. */
export interface ReadinessCheck {
  /** What is checked, for the reason line (`database`, `storage griot.file@v1`). */
  name: string;
  /** Resolves when it answers; rejects with why not. */
  check(): Promise<void>;
}

/** The outcome of the last round of checks. */
export interface ReadinessState {
  ready: boolean;
  /** One line: why not ready (empty when ready). */
  reason: string;
  /** When the checks ran (ms since the epoch). */
  checkedAt: number;
}

/** A check that the database answers a trivial query. */
export function databaseReadiness(knex: Knex): ReadinessCheck {
  return { name: 'database', check: async () => void (await knex.raw('select 1')) };
}

/** Reasons of the typed errors that mean a write failed for want of space or files. */
const WRITE_FAILURE_REASONS = new Set(['DISK_FULL', 'STORAGE_FULL', 'TOO_MANY_OPEN_FILES']);

/**
 * The failing-write signal: a call that failed because a disk is full
 * (SQLSTATE 53100, PGlite's "could not extend file", ENOSPC, EDQUOT) or the
 * process is out of files (EMFILE, ENFILE) makes readiness false. It stays
 * false for `holdMs` (default 10 s) after the last such failure, and then,
 * when the service gave a write probe (see {@link fileWriteProbe}), until the
 * probe writes again: a service whose disk is still full stays not ready
 * even when no call comes in to fail. Without a probe, it is ready again
 * once the time has passed. The server notes every failed call's error here.
 */
export class WriteFailures implements ReadinessCheck {
  readonly name = 'writes';
  private last?: { at: number; reason: string };

  /**
   * @param holdMs - Least time not ready after a failing write.
   * @param now - The clock (tests).
   * @param probe - Resolves when a write like the service's succeeds now; rejects with why not.
   */
  constructor(
    private readonly holdMs = 10_000,
    private readonly now: () => number = Date.now,
    private readonly probe?: () => Promise<void>,
  ) {}

  /**
   * Notes a failed call's error.
   * @returns True when it was a failing write (readiness should be checked again now).
   */
  note(err: unknown): boolean {
    const typed = err instanceof GriotError && WRITE_FAILURE_REASONS.has(err.reason);
    if (!typed && !isDiskFullError(err) && !isOutOfFilesError(err)) return false;
    this.last = { at: this.now(), reason: oneLine(err) };
    return true;
  }

  /** Rejects while a write failed less than `holdMs` ago, and after that while the probe fails. */
  async check(): Promise<void> {
    const last = this.last;
    if (!last) return;
    const ago = this.now() - last.at;
    if (ago < this.holdMs) throw new Error(`a write failed ${Math.round(ago / 1000)} s ago: ${last.reason}`);
    if (this.probe) {
      try {
        await this.probe();
      } catch (err) {
        throw new Error(`a write failed ${Math.round(ago / 1000)} s ago (${last.reason}), and a probe write still fails: ${oneLine(err)}`);
      }
    }
    // A failure noted while the probe ran keeps the signal.
    if (this.last === last) this.last = undefined;
  }
}

/** Bytes each {@link fileWriteProbe} writes: enough to need a new block on any file system. */
export const WRITE_PROBE_BYTES = 64 * 1024;

/**
 * A write probe for {@link WriteFailures}: writes {@link WRITE_PROBE_BYTES}
 * to a new file in each folder, flushes it to the disk, and removes it. The
 * folders (made when missing) are where the service writes (its file
 * storages, the embedded database's data folder), so it fails while their
 * disk is full.
 *
 * @param dirs - Folders to probe.
 */
export function fileWriteProbe(dirs: readonly string[]): () => Promise<void> {
  const block = Buffer.alloc(WRITE_PROBE_BYTES, 0x5a);
  return async () => {
    for (const dir of dirs) {
      // A folder made lazily (a storage's, before its first upload) is made here.
      await mkdir(dir, { recursive: true });
      const file = join(dir, `.griot-write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          await handle.write(block);
          await handle.sync();
        } finally {
          await handle.close();
        }
      } finally {
        await rm(file, { force: true });
      }
    }
  };
}

/** Options of {@link Readiness}. */
export interface ReadinessOptions {
  /** Time between rounds (default 1 s). */
  intervalMs?: number;
  /** A check that has not answered in this time fails (default 2 s). */
  timeoutMs?: number;
  /** Where changes are logged. */
  logger: Logger;
  /** Called when readiness changes (not for the first round). */
  onChange?(state: ReadinessState): void;
}

/** Runs {@link ReadinessCheck}s in a loop and keeps the last outcome. */
export class Readiness {
  private current: ReadinessState = { ready: false, reason: 'not checked yet', checkedAt: 0 };
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReadinessState>;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly checks: ReadinessCheck[],
    private readonly options: ReadinessOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** The last outcome. */
  get state(): ReadinessState {
    return this.current;
  }

  /** Runs a round now (joining one already running) and resolves with its outcome. */
  checkNow(): Promise<ReadinessState> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs a first round, then one every interval until {@link stop}. */
  async start(): Promise<ReadinessState> {
    this.stopped = false;
    const first = await this.checkNow();
    this.schedule();
    return first;
  }

  /** Stops the loop. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.checkNow().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async round(): Promise<ReadinessState> {
    const failures: string[] = [];
    await Promise.all(
      this.checks.map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            c.check(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
            }),
          ]);
        } catch (err) {
          failures.push(`${c.name}: ${oneLine(err)}`);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const previous = this.current;
    const next: ReadinessState = { ready: failures.length === 0, reason: failures.join('; '), checkedAt: Date.now() };
    this.current = next;
    if (this.stopped || previous.checkedAt === 0) return next;
    if (previous.ready !== next.ready) {
      if (next.ready) this.options.logger.info('ready: every dependency answers again');
      else this.options.logger.warn({ reason: next.reason }, 'not ready');
      this.options.onChange?.(next);
    }
    return next;
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  const code = (err as { code?: unknown }).code;
  const text = typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
