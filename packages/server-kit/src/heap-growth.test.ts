import { spawnSync } from 'node:child_process';
import { DEFAULT_HEAP_GROWING_PERCENT, tuneHeapGrowth } from './heap-growth';

describe('tuneHeapGrowth', () => {
  it('is a flag this Node.js knows (setFlagsFromString would ignore an unknown one silently)', () => {
    const run = spawnSync(process.execPath, [`--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('leaves a percent given on the node command line alone', () => {
    expect(tuneHeapGrowth(100, ['--heap-growing-percent=40'])).toBe(40);
    expect(tuneHeapGrowth(100, ['--max-old-space-size=512', '--heap_growing_percent=25'])).toBe(25);
    expect(tuneHeapGrowth(100, ['--heap-growing-percent=0'])).toBeUndefined();
  });

  it('sets the default, or nothing for 0', () => {
    expect(tuneHeapGrowth(undefined, [])).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(tuneHeapGrowth(0, [])).toBeUndefined();
  });
});
