/**
 * V8's old-generation growing factor for service processes.
 *
 * After a full collection V8 lets the old generation grow by a factor it
 * derives from recent GC and mutator speed. Under a steady stream of large
 * buffers (the content store's chunks) that factor falls to about 1.3 on a
 * ~35 MB heap, so the room left is smaller than the young generation, and
 * from then on every scavenge starts another full marking: measured on
 * ReadContent, the store's CPU went from about 1.4 to 5.5 s per GiB, and it
 * stayed there for the life of the process. A fixed 100% (marking again when
 * the old generation has doubled) keeps the room above the young generation
 * for a heap of any size, at the cost of up to twice the live heap.
 */
import { setFlagsFromString } from 'node:v8';

/** The growing percent service processes run with, unless told otherwise. */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

const FLAG = /^--heap[-_]growing[-_]percent(?:=(\d+))?$/;

/**
 * Sets `--heap-growing-percent` for this process, unless its node command
 * line already sets it (an operator's choice wins; NODE_OPTIONS cannot carry
 * this flag).
 *
 * @param percent - The percent; 0 leaves V8's dynamic factor.
 * @param execArgv - The process's Node.js flags.
 * @returns The percent in force, or undefined for V8's own factor.
 */
export function tuneHeapGrowth(percent = DEFAULT_HEAP_GROWING_PERCENT, execArgv = process.execArgv): number | undefined {
  const given = execArgv.map((arg) => FLAG.exec(arg)).find((m) => m !== null);
  if (given) return Number(given[1]) || undefined;
  if (percent <= 0) return undefined;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
