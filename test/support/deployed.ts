/**
 * The services as an operator deploys them: `pnpm build`, then
 * `pnpm --filter @griot/SERVICE deploy --prod DIR` (what the Dockerfile's
 * build stage runs), and each started with `node DIR/dist/main.js`, with none
 * of the repository's sources or development tools in reach.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, SERVICE_ENTRIES, serviceProcess, waitForExit, type ProcessResult, type ServiceProcess } from './process';

const run = promisify(execFile);

/** The deployed services, by their folder name under services/. */
export type DeployedService = keyof typeof SERVICE_ENTRIES;

/**
 * The part of `pnpm build` the services need: `tsc -b tsconfig.build.json`
 * (incremental: a no-op after CI's `pnpm build`). Not the CLI's bundle, which
 * other tests may be packing at the same time.
 */
export async function buildWorkspace(): Promise<void> {
  await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'tsconfig.build.json'], { cwd: REPO_ROOT, env: deployEnv(), maxBuffer: 16 * 1024 * 1024 });
}

/** `pnpm --filter @griot/SERVICE deploy --prod DIR` into a new temporary folder; resolves with the folder. */
export async function deployService(service: DeployedService): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), `griot-deploy-${service}-`)), service);
  await run('pnpm', ['--filter', `@griot/${service}`, 'deploy', '--prod', dir], { cwd: REPO_ROOT, env: deployEnv(), maxBuffer: 16 * 1024 * 1024 });
  return dir;
}

/**
 * The environment of a deployed process: this one's, without the
 * `griot-source` export condition that points the workspace packages at
 * their TypeScript sources (the Jest run adds it to NODE_OPTIONS).
 */
export function deployEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const nodeOptions = (process.env.NODE_OPTIONS ?? '')
    .split(/\s+/)
    .filter((o) => o && !o.startsWith('--conditions=griot-source') && o !== '--experimental-vm-modules')
    .join(' ');
  return { ...process.env, NODE_OPTIONS: nodeOptions, ...extra };
}

/** Runs `node DIR/dist/SCRIPT.js ARGS…` in a deployed folder and waits for its exit. */
export function runDeployed(dir: string, script: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<ProcessResult> {
  const child = spawn(process.execPath, [join(dir, 'dist', script), ...args], { cwd: dir, env: deployEnv({ LOG_LEVEL: 'info', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  return waitForExit(child, 120_000);
}

/** Starts `node DIR/dist/main.js` of a deployed service on a free port and waits until it listens. */
export function startDeployedService(dir: string, service: DeployedService, env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(dir, 'dist', 'main.js')], {
    cwd: dir,
    env: deployEnv({ LOG_LEVEL: 'info', [SERVICE_ENTRIES[service].listen]: '127.0.0.1:0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return serviceProcess(child, service);
}
