import { Periodic } from './periodic';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('Periodic', () => {
  it('joins a run already going instead of starting another, and runs afresh after it', async () => {
    let runs = 0;
    let gate = deferred<number>();
    const task = new Periodic(() => {
      runs += 1;
      return gate.promise;
    });
    const first = task.run();
    const second = task.run();
    expect(second).toBe(first);
    gate.resolve(7);
    expect(await second).toBe(7);
    expect(runs).toBe(1);
    gate = deferred<number>();
    const third = task.run();
    gate.reject(new Error('boom'));
    await expect(third).rejects.toThrow('boom');
    expect(runs).toBe(2);
  });

  it('ticks every interval once started, and stop waits for the run in progress', async () => {
    const gate = deferred<void>();
    let ticks = 0;
    let finished = false;
    const task = new Periodic(async () => {
      await gate.promise;
      finished = true;
    });
    const ticked = new Promise<void>((resolve) =>
      task.every(5, () => {
        ticks += 1;
        void task.run();
        if (ticks === 3) resolve();
      }),
    );
    await ticked;
    const stopped = task.stop().then(() => finished);
    gate.resolve();
    expect(await stopped).toBe(true);
    const after = ticks;
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toBe(after);
  });
});
