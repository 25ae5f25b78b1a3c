/**
 * File-system helpers of the file storage: errno checks and directory fsync.
 */
import { open } from 'node:fs/promises';

/**
 * True when `err` is a Node.js system error with one of the given codes.
 *
 * @param err - Anything thrown.
 * @param codes - Errno names, e.g. `ENOENT`.
 */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  // Duck-typed: system errors may come from another realm (e.g. a test VM), where instanceof fails.
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && codes.includes(code);
}

/**
 * Makes a directory's entries durable (a new, renamed or removed name
 * survives a crash only once its directory is fsynced).
 *
 * @param path - The directory.
 */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
