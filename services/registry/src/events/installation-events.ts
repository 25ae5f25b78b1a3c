/**
 * One LISTEN per channel per process, fanned out in-process: job changes
 * (payload: job id) to that job's watchers, and new pending work (payload:
 * node DID) to that node's waiting claims. Each payload ends with `|<ms>`,
 * when its statement ran, from which each notification's delivery lag is
 * measured. Works the same on PostgreSQL
 * (notifications from every replica) and PGlite (in-process notifications).
 * After the listen connection reconnects, every subscriber is woken so that
 * it re-reads what it may have missed.
 */
import { RECONNECTED, type Database, type Logger } from '@griot/server-kit';
import { JOB_EVENTS_CHANNEL, JOB_QUEUE_CHANNEL } from '../repository/installations-repository';

type Callback = () => void;

/** The process's subscriptions to installation notifications. */
export class InstallationEvents {
  private readonly jobs = new Map<string, Set<Callback>>();
  private readonly queues = new Map<string, Set<Callback>>();
  private readonly unlisten: (() => Promise<void>)[] = [];

  /**
   * @param onDelivered - Told how long each notification took from its
   *   statement to this process, in seconds (the database's clock against this one's).
   */
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly onDelivered: (lagSeconds: number) => void = () => undefined,
  ) {}

  /** Starts listening on both channels. */
  async start(): Promise<void> {
    this.unlisten.push(await this.db.listen(JOB_EVENTS_CHANNEL, (payload) => this.dispatch(this.jobs, payload)));
    this.unlisten.push(await this.db.listen(JOB_QUEUE_CHANNEL, (payload) => this.dispatch(this.queues, payload)));
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    for (const u of this.unlisten.splice(0)) await u().catch(() => undefined);
  }

  /** Calls `callback` whenever the job changes; returns the unsubscribe function. */
  onJob(jobId: string, callback: Callback): () => void {
    return add(this.jobs, jobId.toLowerCase(), callback);
  }

  /** Calls `callback` whenever the node gets pending work; returns the unsubscribe function. */
  onQueue(nodeDid: string, callback: Callback): () => void {
    return add(this.queues, nodeDid, callback);
  }

  private dispatch(map: Map<string, Set<Callback>>, payload: string): void {
    const bar = payload.lastIndexOf('|');
    const key = bar < 0 ? payload : payload.slice(0, bar);
    const sentAt = bar < 0 ? NaN : Number(payload.slice(bar + 1));
    if (Number.isFinite(sentAt)) this.onDelivered(Math.max(0, Date.now() - sentAt) / 1000);
    // Off the notification path: PGlite delivers notifications on its only connection.
    setImmediate(() => {
      const targets = key === RECONNECTED ? [...map.values()].flatMap((s) => [...s]) : [...(map.get(key) ?? [])];
      for (const callback of targets) {
        try {
          callback();
        } catch (err) {
          this.logger.error({ err }, 'installation event subscriber failed');
        }
      }
    });
  }
}

function add(map: Map<string, Set<Callback>>, key: string, callback: Callback): () => void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(callback);
  return () => {
    const current = map.get(key);
    if (!current) return;
    current.delete(callback);
    if (current.size === 0) map.delete(key);
  };
}
