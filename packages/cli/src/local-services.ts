/**
 * Starting the registry and the content store as child processes on free
 * ports, and running the CLI as a child process: shared by the end-to-end
 * test and `pnpm demo`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root (this file is packages/cli/src/local-services.ts). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The tsx binary of the repository. */
export const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** A service process that is listening. */
export interface ServiceProcess {
  /** `127.0.0.1:port`. */
  readonly address: string;
  /** The child process. */
  readonly child: ChildProcess;
  /** Everything it logged so far. */
  readonly output: string[];
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `services/<name>/src/main.ts` and waits for its JSON log line with `address`.
 *
 * @param name - `registry` or `content-store`.
 * @param env - Extra environment (listen address, data dir, database URL).
 * @param timeoutMs - How long to wait for it to listen.
 */
export function startServiceProcess(name: 'registry' | 'content-store', env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ServiceProcess> {
  const child = spawn(TSX, [join(REPO_ROOT, 'services', name, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${output.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string): void => {
      output.push(line);
      try {
        const json = JSON.parse(line) as { address?: unknown };
        if (typeof json.address === 'string') {
          clearTimeout(timer);
          resolvePromise({ address: json.address, child, output, stop });
        }
      } catch {
        // Not a JSON line: keep it for the error message.
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before listening:\n${output.join('\n')}`));
    });
  });
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
  const child = spawn(TSX, [join(REPO_ROOT, 'packages', 'cli', 'src', 'main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  if (onStdoutLine) createInterface({ input: child.stdout! }).on('line', onStdoutLine);
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((r) => child.once('close', (code) => r({ code: code ?? -1, stdout, stderr })));
}

/**
 * Starts `griot ARGS…` in the background (such as the agent).
 *
 * @param args - The arguments.
 * @param env - Extra environment.
 * @param onLine - Receives each output line.
 */
export function spawnGriot(args: readonly string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): ChildProcess {
  const child = spawn(TSX, [join(REPO_ROOT, 'packages', 'cli', 'src', 'main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return child;
}
