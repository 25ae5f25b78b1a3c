/**
 * What a suite needs beyond Node.js and npm, checked before it runs. A suite
 * whose needs are not met is skipped, and why (what is missing, how to get
 * it) is recorded in the file named by `GRIOT_TEST_SKIP_LOG` (set by the
 * global setup), which the global teardown prints at the end of the run.
 * CI installs everything: there, any skip fails the run (.ci/run).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { embeddedPostgresAvailable } from '@griot/postgres-server';
import { DB_KINDS } from './database';
import { REPO_ROOT } from './process';

/** A need of a suite: met, or not with the reason. */
export type Requirement = { ok: true } | { ok: false; reason: string };

/** Where a command is on PATH, if it is. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The tools outside npm that some suites use, and how to get them (Debian package names). */
const TOOLS = {
  h2load: {
    check: () => (findOnPath('h2load') ? undefined : 'h2load is not on PATH'),
    install: 'apt-get install nghttp2-client',
  },
  'python-grpc': {
    check: () => {
      if (!existsSync('/usr/bin/python3')) return '/usr/bin/python3 is missing';
      const run = spawnSync('/usr/bin/python3', ['-c', 'import grpc, google.protobuf, cryptography'], { encoding: 'utf8' });
      return run.status === 0 ? undefined : '/usr/bin/python3 cannot import grpc, google.protobuf and cryptography';
    },
    install: 'apt-get install python3-grpcio python3-protobuf python3-cryptography',
  },
  protoc: {
    check: () => (findOnPath('protoc') ? undefined : 'protoc is not on PATH'),
    install: 'apt-get install protobuf-compiler',
  },
  'grpc-python-plugin': {
    check: () => (existsSync('/usr/bin/grpc_python_plugin') ? undefined : '/usr/bin/grpc_python_plugin is missing'),
    install: 'apt-get install protobuf-compiler-grpc',
  },
  'go-grpc': {
    check: () => {
      for (const command of ['go', 'protoc-gen-go', 'protoc-gen-go-grpc']) if (!findOnPath(command)) return `${command} is not on PATH`;
      // GOPATH-mode sources; protobuf 1.5's proto/registry.go is absent from the older 1.3 package, whose messages panic.
      for (const source of ['google.golang.org/grpc', 'google.golang.org/protobuf', 'github.com/golang/protobuf/proto/registry.go'])
        if (!existsSync(join('/usr/share/gocode/src', source))) return `/usr/share/gocode/src/${source} is missing`;
      return undefined;
    },
    install: 'apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc',
  },
} satisfies Record<string, { check(): string | undefined; install: string }>;

/** A tool outside npm: met when it is there. */
export function tool(name: keyof typeof TOOLS): Requirement {
  const missing = TOOLS[name].check();
  return missing === undefined ? { ok: true } : { ok: false, reason: `${missing} (${TOOLS[name].install})` };
}

/** A PostgreSQL server to make databases on: met unless GRIOT_TEST_DATABASES leaves PostgreSQL out. */
export function postgresKind(): Requirement {
  return DB_KINDS.includes('postgres')
    ? { ok: true }
    : { ok: false, reason: `GRIOT_TEST_DATABASES=${process.env.GRIOT_TEST_DATABASES ?? ''} leaves PostgreSQL out` };
}

/** PostgreSQL server binaries from npm (@griot/postgres-server), for a private server a test stops and starts. */
export function privatePostgres(): Requirement {
  const available = embeddedPostgresAvailable();
  return available.ok ? { ok: true } : { ok: false, reason: `no private PostgreSQL server: ${available.reason}` };
}

/** The reasons of unmet requirements, recorded for the run's summary (and on stderr when there is no run log). */
export function recordSkip(suite: string, reasons: string[]): void {
  const testPath = (expect.getState() as { testPath?: string }).testPath;
  const entry = { file: testPath ? relative(REPO_ROOT, testPath) : undefined, suite, reasons };
  const log = process.env.GRIOT_TEST_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify(entry)}\n`);
  else process.stderr.write(`skipped ${entry.file ?? ''} "${suite}": ${reasons.join('; ')}\n`);
}

/**
 * `describe` when every requirement is met; otherwise `describe.skip`, with
 * the reasons recorded for the run's summary.
 * `describeIf([tool('h2load')])('mixed load', () => { ... })`.
 */
export function describeIf(requirements: Requirement[]): (name: string, fn: () => void) => void {
  const reasons = requirements.flatMap((r) => (r.ok ? [] : [r.reason]));
  if (reasons.length === 0) return describe;
  return (name, fn) => {
    recordSkip(name, reasons);
    describe.skip(name, fn);
  };
}
