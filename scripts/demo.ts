/**
 * `pnpm demo`: the whole Griot flow for a newcomer, on the embedded defaults
 * (PGlite databases and local blob files in a temporary data folder):
 * start the content store and the registry, make an author and a node key,
 * publish a package and its dependency, run the node's agent, install the
 * package while following its log, and show the files it installed.
 *
 * Set GRIOT_DEMO_KEEP=1 to keep the temporary folder afterwards.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runGriot, spawnGriot, startServiceProcess, type CliRun, type ServiceProcess } from '@griot/test/support/process';

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
let stepNumber = 0;

function step(title: string): void {
  stepNumber += 1;
  process.stdout.write(`\n${bold(`${stepNumber}. ${title}`)}\n`);
}

async function griot(args: string[], env: NodeJS.ProcessEnv, live = false): Promise<CliRun> {
  process.stdout.write(dim(`   $ griot ${args.join(' ')}\n`));
  const run = await runGriot(args, env, live ? (line) => process.stdout.write(`   ${line}\n`) : undefined);
  if (!live) for (const line of run.stdout.trimEnd().split('\n').filter(Boolean)) process.stdout.write(`   ${line}\n`);
  for (const line of run.stderr.trimEnd().split('\n').filter(Boolean)) process.stdout.write(dim(`   ${line}\n`));
  if (run.code !== 0) throw new Error(`griot ${args[0]} exited with code ${run.code}`);
  return run;
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} (${statSync(p).size} bytes)`);
    }
  };
  walk(dir);
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'griot-demo-'));
  let content: ServiceProcess | undefined;
  let registry: ServiceProcess | undefined;
  let agent: ChildProcess | undefined;
  try {
    process.stdout.write(`${bold('Griot demo')} in ${work}\n`);

    step('Start the content store and the registry (embedded PGlite databases, local blob files)');
    content = await startServiceProcess('content-store', { CONTENT_LISTEN: '127.0.0.1:0', CONTENT_DATABASE_URL: '', GRIOT_DATA_DIR: join(work, 'data'), LOG_LEVEL: 'info' });
    process.stdout.write(`   content store listening on ${content.address}\n`);
    registry = await startServiceProcess('registry', {
      REGISTRY_LISTEN: '127.0.0.1:0',
      REGISTRY_DATABASE_URL: '',
      GRIOT_DATA_DIR: join(work, 'data'),
      CONTENT_STORE_ADDR: content.address,
      LOG_LEVEL: 'info',
    });
    process.stdout.write(`   registry listening on ${registry.address}\n`);
    const env = { GRIOT_REGISTRY: registry.address, GRIOT_CONTENT: content.address };

    step('Make an author key and a node key (Ed25519 did:key, files with mode 0600)');
    await griot(['keygen', '--out', join(work, 'author.json')], env);
    await griot(['keygen', '--out', join(work, 'node.json')], env);

    step('Write two packages: libgreet 1.2.0, and hello 1.0.0 which depends on libgreet ^1.0.0');
    const lib = join(work, 'src', 'libgreet');
    writeFiles(lib, {
      'griot.json': `${JSON.stringify({ name: 'libgreet', version: '1.2.0', nodeClass: 'edge', dependencies: {} }, null, 2)}\n`,
      'lib/greet.sh': 'greet() { echo "hello, $1"; }\n',
    });
    const app = join(work, 'src', 'hello');
    writeFiles(app, {
      'griot.json': `${JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: { libgreet: '^1.0.0' } }, null, 2)}\n`,
      'bin/hello': '#!/bin/sh\n. "$(dirname "$0")/../../../libgreet/1.2.0/lib/greet.sh"\ngreet world\n',
    });
    chmodSync(join(app, 'bin', 'hello'), 0o755);
    process.stdout.write(`   ${relative(work, lib)}, ${relative(work, app)}\n`);

    step('Pack: a reproducible .tar.gz; its SHA-256 is the package id');
    await griot(['pack', app, '-o', join(work, 'hello-1.0.0.tgz')], env);

    step('Publish both: pack, upload to the content store, sign the manifest, register it');
    await griot(['publish', lib, '--key', join(work, 'author.json')], env);
    await griot(['publish', app, '--key', join(work, 'author.json')], env);

    step('Search and show');
    await griot(['search', '--class', 'edge'], env);
    await griot(['show', 'hello@1.0.0'], env);

    step("Start the node's agent in the background");
    const root = join(work, 'node-root');
    const agentLines: string[] = [];
    agent = spawnGriot(['agent', '--node', join(work, 'node.json'), '--root', root, '--wait-ms', '2000'], env, (line) => agentLines.push(line));
    process.stdout.write(dim(`   $ griot agent --node ${join(work, 'node.json')} --root ${root} &\n`));
    process.stdout.write('   (its log lines go to the registry; the next step follows them)\n');

    step('Install hello@1.0.0 on the node and follow the job (dependencies first)');
    await griot(['install', 'hello@1.0.0', '--node', join(work, 'node.json'), '--follow'], env, true);

    step('What the agent installed');
    for (const line of listTree(join(root, 'packages'))) process.stdout.write(`   ${line}\n`);
    const hello = join(root, 'packages', 'hello', '1.0.0', 'bin', 'hello');
    process.stdout.write(dim(`   $ ${relative(work, hello)}\n`));
    process.stdout.write(`   ${execFileSync(hello, { encoding: 'utf8' }).trim()}\n`);

    process.stdout.write(`\n${bold('Done.')} The same commands work against long-running services: pnpm start, then pnpm griot --help.\n`);
  } finally {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    await registry?.stop();
    await content?.stop();
    if (process.env.GRIOT_DEMO_KEEP === '1') process.stdout.write(`kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
