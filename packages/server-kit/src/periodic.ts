/**
 * Background work that also runs on demand, such as a sweeper: a run asked
 * for while one is going joins it instead of starting another, a timer runs
 * it every interval once started, and stopping waits for the run in progress.
 */
export class Periodic<T> {
  private running?: Promise<T>;
  private timer?: NodeJS.Timeout;

  /** @param work - One run. */
  constructor(private readonly work: () => Promise<T>) {}

  /** Runs now, or joins the run already going. */
  run(): Promise<T> {
    this.running ??= this.work().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Calls `tick` every `intervalMs` (the timer does not keep the process alive).
   *
   * @param intervalMs - The interval.
   * @param tick - What each tick does, typically {@link run} with its outcome logged.
   */
  every(intervalMs: number, tick: () => void): void {
    clearInterval(this.timer);
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for the run in progress (whatever its outcome). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
