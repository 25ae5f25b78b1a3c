/**
 * Small tmpfs mounts for the tests of full disks (a storage, a database
 * tablespace, a readiness probe): mounting needs root, so those tests are
 * defined only where {@link canMountTmpfs} says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let mountable: boolean | undefined;

/** True when this process can mount a tmpfs (root, and a kernel that allows it); asked once. */
export function canMountTmpfs(): boolean {
  if (mountable !== undefined) return mountable;
  mountable = false;
  if (process.getuid?.() !== 0) return mountable;
  const probe = mkdtempSync(join(tmpdir(), 'griot-tmpfs-probe-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0) {
      spawnSync('umount', [probe]);
      mountable = true;
    }
  } finally {
    rmdirSync(probe);
  }
  return mountable;
}

function run(args: string[]): void {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr || result.error?.message || `exit ${result.status}`}`);
}

/** Mounts a tmpfs of `size` (`256k`, `1m`) on `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  run(['mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** Resizes the tmpfs on `dir` (space comes back, or goes). */
export function resizeTmpfs(dir: string, size: string): void {
  run(['mount', '-o', `remount,size=${size}`, dir]);
}

/** Detaches the tmpfs on `dir` at once (lazily, should a process still hold a file there); never throws. */
export function unmountTmpfs(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}
