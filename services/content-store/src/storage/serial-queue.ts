/**
 * Runs asynchronous operations one after another, in call order. Writers use
 * it so that a caller who does not await each write still gets its chunks
 * appended in order, never interleaved.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `operation` after every operation queued before it has settled.
   *
   * @param operation - The work to run.
   * @returns What the operation resolves to (a failure affects only its own caller).
   */
  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation, operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
