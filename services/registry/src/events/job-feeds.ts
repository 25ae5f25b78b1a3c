/**
 * Live log feeds shared by the watchers of a job within one process. On each
 * notification for the job, the feed reads the new lines and the status once
 * (one query however many watchers there are) and wakes its watchers, who
 * take the lines from the feed's recent tail; a watcher that is further
 * behind reads its lines from the database. The feed subscribes before its
 * first read, so a change between the two is never missed.
 */
import { outOfRangeError } from './watch-errors';
import { isTerminal, type JobStatus } from '../domain/installation-state';
import type { InstallationsRepository } from '../repository/installations-repository';
import type { InstallationEvents } from './installation-events';
import { Wakeup } from './wakeup';
import { notFound, type Logger } from '@griot/server-kit';

/** Most lines read or sent at once. */
const MAX_BATCH = 2000;
/**
 * Most recent lines a feed keeps for its watchers, and most characters: a
 * watcher that falls behind the tail reads from the database, one query per
 * batch and watcher. With 1,000 watchers of a job at 5,000 lines/s, a tail of
 * 20,000 lines (4 s) let a slowed-down process fall behind it, and the
 * database reads that followed (PostgreSQL used 13.6 CPU-seconds in a 10 s
 * run) slowed it further; 100,000 lines of up to 16M characters hold out longer.
 */
const MAX_TAIL = 100_000;
const MAX_TAIL_CHARS = 16 * 1024 * 1024;

/** One message of a watch. */
export interface WatchEvent {
  /** Index of the first of `lines`. */
  firstLine: number;
  /** New lines. */
  lines: string[];
  /** The status after these lines. */
  status: JobStatus;
  /** The status message after these lines. */
  statusMessage: string | null;
}

class JobFeed {
  status: JobStatus = 'pending';
  statusMessage: string | null = null;
  exists = true;
  /** Lines known so far (the log count read last). */
  known = 0;
  tailStart = 0;
  tail: string[] = [];
  /** Characters in `tail`. */
  tailChars = 0;
  readonly watchers = new Set<Wakeup>();
  ready: Promise<void>;
  private refreshing?: Promise<void>;
  private dirty = false;
  unsubscribe: () => void = () => undefined;
  failure?: unknown;
  private readonly events = new Map<string, WatchEvent>();

  /**
   * The event for these lines and status; watchers at the same place get the
   * same object, so that the transport can encode it once for all of them.
   */
  event(firstLine: number, lines: string[], status: JobStatus, statusMessage: string | null): WatchEvent {
    const key = `${firstLine}:${lines.length}:${status}:${statusMessage ?? ''}`;
    let event = this.events.get(key);
    if (!event) {
      event = { firstLine, lines, status, statusMessage };
      this.events.set(key, event);
      if (this.events.size > 16) this.events.delete(this.events.keys().next().value as string);
    }
    return event;
  }

  constructor(
    readonly jobId: string,
    private readonly repository: InstallationsRepository,
    private readonly logger: Logger,
  ) {
    this.ready = Promise.resolve();
  }

  async initialize(): Promise<void> {
    const slice = await this.repository.readLogSlice(this.jobId, 0, 0);
    if (!slice) {
      this.exists = false;
      return;
    }
    this.status = slice.status;
    this.statusMessage = slice.statusMessage;
    this.known = slice.logCount;
    this.tailStart = slice.logCount;
  }

  /** Re-reads the job; coalesces notifications that arrive while reading. */
  refresh(): void {
    if (this.refreshing) {
      this.dirty = true;
      return;
    }
    this.refreshing = (async () => {
      await this.ready;
      do {
        this.dirty = false;
        const slice = await this.repository.readLogSlice(this.jobId, this.known, this.known + MAX_BATCH);
        if (!slice) {
          this.exists = false;
          break;
        }
        this.tail.push(...slice.lines);
        for (const line of slice.lines) this.tailChars += line.length;
        this.known += slice.lines.length;
        // The status read is the job's after all of its logCount lines. A final one is taken only once
        // every line is read: watchers end on a final status, and would miss the lines still unread.
        const complete = slice.logCount <= this.known;
        if (complete || !isTerminal(slice.status)) {
          this.status = slice.status;
          this.statusMessage = slice.statusMessage;
        }
        if (!complete) this.dirty = true;
        if (this.tail.length > MAX_TAIL || this.tailChars > MAX_TAIL_CHARS) {
          // Down to half of each bound.
          let drop = Math.max(0, this.tail.length - MAX_TAIL / 2);
          let chars = 0;
          for (let i = 0; i < drop; i++) chars += this.tail[i]!.length;
          while (drop < this.tail.length && this.tailChars - chars > MAX_TAIL_CHARS / 2) chars += this.tail[drop++]!.length;
          this.tail.splice(0, drop);
          this.tailChars -= chars;
          this.tailStart += drop;
        }
        for (const w of this.watchers) w.wake();
      } while (this.dirty);
    })()
      .catch((err: unknown) => {
        this.logger.warn({ err, jobId: this.jobId }, 'reading a watched job failed; retrying on the next change');
        this.failure = err;
        for (const w of this.watchers) w.wake();
      })
      .finally(() => {
        this.refreshing = undefined;
      });
  }
}

/** The process's job feeds, one per watched job. */
export class JobFeeds {
  private readonly feeds = new Map<string, JobFeed>();

  constructor(
    private readonly events: InstallationEvents,
    private readonly repository: InstallationsRepository,
    private readonly logger: Logger,
  ) {}

  /**
   * Follows a job's log from `fromLine`: the lines so far, then new lines and
   * status changes, then the final status; ends when the job is final and
   * every line was given, or when a signal aborts.
   * @throws NOT_FOUND for an unknown job, OUT_OF_RANGE when `fromLine` is past the log's end.
   */
  async *watch(jobId: string, fromLine: number, signals: AbortSignal[]): AsyncGenerator<WatchEvent> {
    const feed = this.acquire(jobId);
    const wakeup = new Wakeup();
    feed.watchers.add(wakeup);
    // Listened to once for the whole watch: an abort wakes the loop, which then sees it.
    const stopWaking = wakeup.wakeOnAbort(signals);
    try {
      await feed.ready;
      if (!feed.exists) throw notFound('Installation', jobId, `installation job ${jobId} was not found`);
      if (fromLine > feed.known) throw outOfRangeError(jobId, fromLine, feed.known);
      let sent = fromLine;
      let sentStatus: JobStatus | undefined;
      let sentMessage: string | null = null;
      for (;;) {
        if (signals.some((s) => s.aborted)) return;
        if (feed.failure !== undefined) {
          feed.failure = undefined;
          feed.refresh();
        }
        const status = feed.status;
        const statusMessage = feed.statusMessage;
        const known = feed.known;
        let lines: string[] = [];
        if (sent < known) {
          if (sent >= feed.tailStart) {
            lines = feed.tail.slice(sent - feed.tailStart, sent - feed.tailStart + MAX_BATCH);
          } else {
            const slice = await this.repository.readLogSlice(jobId, sent, Math.min(feed.tailStart, sent + MAX_BATCH));
            lines = slice?.lines ?? [];
          }
        }
        const caughtUp = sent + lines.length >= known;
        if (lines.length > 0 || status !== sentStatus || statusMessage !== sentMessage) {
          // A final status goes out only with the last line, so that "final" always means "nothing more".
          const shownStatus = isTerminal(status) && !caughtUp ? 'running' : status;
          yield feed.event(sent, lines, shownStatus, shownStatus === status ? statusMessage : null);
          sent += lines.length;
          sentStatus = shownStatus;
          sentMessage = shownStatus === status ? statusMessage : null;
        }
        if (isTerminal(status) && sent >= known) return;
        if (sent < known) continue;
        await wakeup.wait(undefined);
      }
    } finally {
      stopWaking();
      feed.watchers.delete(wakeup);
      if (feed.watchers.size === 0) {
        feed.unsubscribe();
        this.feeds.delete(jobId);
      }
    }
  }

  /** Number of jobs followed in this process (for tests and metrics). */
  get size(): number {
    return this.feeds.size;
  }

  private acquire(jobId: string): JobFeed {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      const created = new JobFeed(jobId, this.repository, this.logger);
      // Subscribe first, then read: a change in between wakes a refresh.
      created.unsubscribe = this.events.onJob(jobId, () => created.refresh());
      created.ready = created.initialize();
      feed = created;
      this.feeds.set(jobId, feed);
    }
    return feed;
  }
}
