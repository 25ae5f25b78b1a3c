/**
 * The server processes of the content store benchmarks: each server under
 * test (the content store and its baselines) runs in a process of its own,
 * as in a deployment, and the benchmark is their client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** A running server process. */
export interface ServerProcess {
  /** `host:port` to dial. */
  address: string;
  /** Its process id, to sample its memory. */
  pid: number;
  /** Stops it with SIGTERM and waits for its exit. */
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry point under tsx (with the workspace's packages
 * from source) and waits for the JSON log line
 * that carries its address.
 *
 * @param entry - The script, relative to the repository root.
 * @param env - Variables added to this process's environment.
 * @param readyMessage - The `msg` of the line that carries `address`.
 * @param nodeArgs - Extra Node.js flags, such as `--cpu-prof`.
 */
export async function startServerProcess(entry: string, env: Record<string, string>, readyMessage: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  const root = resolve(__dirname, '..');
  // griot-source: the workspace's packages from their source, as `pnpm start` runs them, never a stale dist/.
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--conditions=griot-source', '--import', 'tsx', resolve(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // BENCH_SERVER_OUTPUT=1 shows what the servers print (their logs, or --trace-gc lines).
  const echo = process.env.BENCH_SERVER_OUTPUT === '1';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const address = await new Promise<string>((resolvePromise, reject) => {
    // Read every line, so that a full pipe never blocks the server.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (echo) process.stderr.write(`${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === readyMessage && entry.address) resolvePromise(entry.address);
      } catch {
        // Not JSON.
      }
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before listening`)));
  });
  return {
    address,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The resident set size of a process, in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0) * 1024;
}

/**
 * CPU time (user and system, every thread) a process has used so far, in
 * seconds: the sum of its threads' run time in /proc/PID/task/TID/schedstat,
 * counted in nanoseconds (/proc/PID/stat counts in 10 ms ticks, too coarse
 * for the transport's share of a short upload). A thread that ended is no
 * longer counted: the servers measured keep theirs (libuv's pool, V8's
 * helpers) for their lifetime.
 */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const tasks = await readdir(`/proc/${pid}/task`);
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9;
}
