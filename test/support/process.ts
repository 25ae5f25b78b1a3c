/**
 * Runs TypeScript entry points of the repository as real processes, for
 * end-to-end tests and `pnpm demo`: the services, and the griot CLI.
 *
 * Each is one `node --import tsx ENTRY` process (not the tsx CLI, which runs
 * node as a child of its own), so a signal reaches the program itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root. */
export const REPO_ROOT = join(__dirname, '..', '..');

/** The CLI's entry point. */
const GRIOT_MAIN = 'packages/cli/src/main.ts';

/** What a finished process did. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `tsx <entry> ...args` with the given extra environment. */
export function spawnTs(entry: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): ChildProcess {
  // The cwd is the repository, where `--import tsx` resolves.
  return spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, entry), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a process to exit and collects its output. */
export function waitForExit(child: ChildProcess, timeoutMs = 60_000): Promise<ProcessResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/**
 * Waits until a process writes a JSON log line with the given `msg`, and
 * resolves with that line.
 */
export function waitForLogLine(child: ChildProcess, msg: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed.msg === msg) {
            clearTimeout(timer);
            resolve(parsed);
          }
        } catch {
          // Not a JSON line.
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before "${msg}"; stderr: ${stderr}`));
    });
  });
}

/** A service running as a real process. */
export interface ServiceProcess {
  /** The process. */
  child: ChildProcess;
  /** `host:port` it listens on. */
  address: string;
  /** Resolves when the process exits. */
  exited: Promise<ProcessResult>;
  /** Sends SIGTERM (SIGKILL if it has not exited 10 s later) and waits for the exit. */
  stop(): Promise<ProcessResult>;
}

/** The entry point and the "listening" log line of each service. */
export const SERVICE_ENTRIES = {
  registry: { entry: 'services/registry/src/main.ts', ready: 'registry listening', listen: 'REGISTRY_LISTEN' },
  'content-store': { entry: 'services/content-store/src/main.ts', ready: 'content store listening', listen: 'CONTENT_LISTEN' },
} as const;

/** Starts a service as a real process on a free port and waits until it listens. */
export function startServiceProcess(service: keyof typeof SERVICE_ENTRIES, env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const spec = SERVICE_ENTRIES[service];
  return serviceProcess(spawnTs(spec.entry, { [spec.listen]: '127.0.0.1:0', ...env }), service);
}

/**
 * Follows a service process just spawned (from the sources or a deployed
 * folder): resolves once it logs that it listens, with its address and a
 * `stop()` that sends SIGTERM, then SIGKILL if it has not exited 10 s later.
 */
export async function serviceProcess(child: ChildProcess, service: keyof typeof SERVICE_ENTRIES): Promise<ServiceProcess> {
  const exited = waitForExit(child, 10 * 60_000);
  const ready = await waitForLogLine(child, SERVICE_ENTRIES[service].ready);
  return {
    child,
    address: String(ready.address),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** What a CLI run printed and its exit code. */
export interface CliRun {
  /** The exit code. */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/**
 * Runs `griot ARGS…` as a child process.
 *
 * @param args - The arguments.
 * @param env - Extra environment (GRIOT_REGISTRY, GRIOT_CONTENT).
 * @param onStdoutLine - Receives each stdout line as it comes.
 */
export function runGriot(args: readonly string[], env: NodeJS.ProcessEnv, onStdoutLine?: (line: string) => void): Promise<CliRun> {
  const child = spawnTs(GRIOT_MAIN, env, [...args]);
  let stdout = '';
  let stderr = '';
  if (onStdoutLine) createInterface({ input: child.stdout! }).on('line', onStdoutLine);
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/**
 * Starts `griot ARGS…` in the background (such as the agent).
 *
 * @param args - The arguments.
 * @param env - Extra environment.
 * @param onLine - Receives each output line, stdout and stderr.
 */
export function spawnGriot(args: readonly string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): ChildProcess {
  const child = spawnTs(GRIOT_MAIN, env, [...args]);
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return child;
}
