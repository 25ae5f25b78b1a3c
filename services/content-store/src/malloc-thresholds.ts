/**
 * glibc's malloc thresholds for the content store process.
 *
 * Node.js keeps every HTTP/2 read (up to 64 KiB) in memory from malloc,
 * freed when V8 collects the Buffer over it. glibc gives the top of its heap
 * back to the system once more than its trim threshold (128 KiB by default)
 * is free there, and an upload frees reads in bursts, at each garbage
 * collection: with the defaults the next reads fault their pages in afresh,
 * about one fault per 4 KiB received (issue 18: 200,000 minor faults and
 * some 0.3 CPU-s per GiB uploaded, on the thread that receives). glibc
 * raises both thresholds by itself once it frees a block it had mapped on
 * its own (mmap threshold to that block's size, trim threshold to twice
 * that), which grpc-js's per-message buffers used to do by accident; the
 * transport now assembles upload messages in buffers of the store's own, so
 * the process does it once, on purpose, as the store starts.
 */
import { createHash } from 'node:crypto';

/** The mapped block freed: glibc then keeps up to twice this free at the top of its heap (its cap for the mmap threshold is 32 MiB). */
export const MALLOC_WARM_BYTES = 16 * 1024 * 1024;

/** The largest block freed so far (once is enough for a process). */
let raised = 0;

/**
 * Has glibc map and free one block of `bytes`, which raises its mmap and
 * trim thresholds for the rest of the process; once per process. Hashing a
 * string that long decodes it into a temporary buffer that Node.js mallocs
 * and frees before `update` returns; elsewhere than glibc it is only that.
 */
export function raiseMallocThresholds(bytes = MALLOC_WARM_BYTES): void {
  if (raised >= bytes) return;
  raised = bytes;
  createHash('sha256').update('\0'.repeat(bytes), 'latin1');
}

