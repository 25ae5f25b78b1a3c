/**
 * Killing a process started through tsx for real: `tsx file.ts` is a wrapper
 * process whose child runs the code, and a SIGKILL of the wrapper leaves that
 * child running (orphaned, still serving). Fault tests kill the whole tree.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { processAlive } from '@griot/postgres-server';

/**
 * [pid, parent pid] of every process: from /proc on Linux (a slim container
 * may have no `ps`), else from `ps`.
 */
function parentsOfAll(): [number, number][] {
  if (existsSync('/proc/self/stat')) {
    const out: [number, number][] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        out.push([Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])]);
      } catch {
        // Exited meanwhile.
      }
    }
    return out;
  }
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((p): p is [number, number] => p.length === 2 && p[0]! > 0 && !Number.isNaN(p[1]));
}

/** The pids of every descendant of `pid`, deepest first. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parentsOfAll()) children.set(parent, [...(children.get(parent) ?? []), child]);
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * Sends `signal` (SIGKILL by default) to a child process and all its
 * descendants, the deepest first, and resolves once the child has exited.
 */
export async function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
  for (const pid of [...descendantsOf(child.pid), child.pid]) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
  await exited;
}

/** Resolves once process `pid` is gone (polling every 50 ms); rejects after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
