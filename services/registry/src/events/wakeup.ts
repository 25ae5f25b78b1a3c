/**
 * A level-triggered wake-up: `wake()` marks it, `wait()` returns at once when
 * marked (and clears the mark), else when woken, timed out or aborted. A wake
 * that comes between two waits is never lost.
 */
export class Wakeup {
  private marked = false;
  private resolve?: () => void;

  /** Marks the wake-up and releases the current waiter. */
  wake(): void {
    this.marked = true;
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }

  /**
   * Wakes this whenever one of `signals` aborts, until the returned function
   * is called: for a long loop of waits, cheaper than passing the signals to
   * each wait (which adds and removes a listener on each signal every time).
   */
  wakeOnAbort(signals: AbortSignal[]): () => void {
    const onAbort = () => this.wake();
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    return () => {
      for (const s of signals) s.removeEventListener('abort', onAbort);
    };
  }

  /**
   * Waits for a wake, at most `timeoutMs` (unbounded when undefined), or until a signal aborts.
   * @returns True when woken, false on timeout or abort.
   */
  async wait(timeoutMs: number | undefined, signals: AbortSignal[] = []): Promise<boolean> {
    if (this.marked) {
      this.marked = false;
      return true;
    }
    if (signals.some((s) => s.aborted)) return false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const woken = await new Promise<boolean>((resolve) => {
      this.resolve = () => resolve(true);
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      onAbort = () => resolve(false);
      for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    });
    if (timer) clearTimeout(timer);
    for (const s of signals) s.removeEventListener('abort', onAbort!);
    this.resolve = undefined;
    if (woken) this.marked = false;
    return woken;
  }
}
