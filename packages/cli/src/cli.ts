/**
 * The command line: global options, dispatch to a command, and the one place
 * where errors become a line on stderr and an exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GriotClientError, PackageError, type TlsOptions } from '@griot/client';
import { CliError, ExitCode, usageError } from './cli-error';
import type { CliIo, Command, CommandContext, OptionValues } from './command';
import { COMMANDS } from './commands';
import { ServiceClients, toCliError } from './grpc-call';
import { commandHelp, GLOBAL_OPTION_LINES } from './help';
import { cliVersion } from './version';
import { UnsafeArchiveError } from './safe-extract';

/** Default registry address. */
export const DEFAULT_REGISTRY = '127.0.0.1:50051';
/** Default content store address. */
export const DEFAULT_CONTENT = '127.0.0.1:50052';
/** Default audience of caller tokens: the registry's. */
export const DEFAULT_AUDIENCE = 'griot-registry';

/** Options every command accepts. */
export const GLOBAL_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  registry: { type: 'string' },
  content: { type: 'string' },
  audience: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * Splits the global options written before the command from the rest, so
 * `griot --json search` is `griot search --json`.
 *
 * @returns The leading global options (with their values) and the arguments from the command on.
 */
export function splitLeadingGlobals(argv: readonly string[]): { globals: string[]; rest: string[] } {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const token = argv[i]!;
    if (!token.startsWith('-') || token === '-' || token === '--') break;
    const name = token.startsWith('--') ? token.slice(2).split('=')[0]! : Object.entries(GLOBAL_OPTIONS).find(([, o]) => o.short === token.slice(1))?.[0];
    const spec = name !== undefined ? GLOBAL_OPTIONS[name] : undefined;
    if (!spec) break;
    globals.push(token);
    if (spec.type === 'string' && !token.includes('=') && i + 1 < argv.length) globals.push(argv[++i]!);
    i++;
  }
  return { globals, rest: argv.slice(i) };
}

/** Finds the command named by the first one or two words of argv. */
export function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0] ?? ''} ${argv[1] ?? ''}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

/** The text of `griot --help`. */
export function helpText(): string {
  return [
    'usage: griot COMMAND [options]',
    '',
    ...COMMANDS.flatMap((c) => [`  griot ${c.usage}`, `      ${c.summary}`]),
    '  griot help COMMAND',
    '      the options of a command, one line each, and an example',
    '',
    'global options (before or after the command):',
    ...GLOBAL_OPTION_LINES,
    '  -V, --version          print the version of griot',
    '',
    'identities: --key FILE (or GRIOT_KEY) is the caller\'s key file for the commands that act as someone; --node FILE is a node\'s',
    '',
    'exit codes: 0 ok, 1 failure, 2 usage, 3 service unreachable, 4 not found, 5 job failed or cancelled, 6 job not finished, 130 interrupted',
  ].join('\n');
}

function parseCommandLine(command: Command, rest: string[]): { args: string[]; options: OptionValues } {
  try {
    const parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    return { args: parsed.positionals, options: parsed.values as OptionValues };
  } catch (err: unknown) {
    throw usageError(`${(err as Error).message.split('\n')[0]} (usage: griot ${command.usage})`);
  }
}

/** Plaintext (undefined), TLS (a CA given) or mutual TLS (a client certificate and key too): the PEM files read. */
function tlsFiles(files: { ca: string; cert: string; key: string }): TlsOptions | undefined {
  if (!files.ca && !files.cert && !files.key) return undefined;
  if (Boolean(files.cert) !== Boolean(files.key)) throw usageError('--tls-cert and --tls-key go together');
  const read = (path: string, option: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw usageError(`--${option}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  return {
    ca: files.ca ? read(files.ca, 'tls-ca') : null,
    key: files.key ? read(files.key, 'tls-key') : null,
    cert: files.cert ? read(files.cert, 'tls-cert') : null,
  };
}

function makeContext(command: Command, args: string[], options: OptionValues, io: CliIo, signal: AbortSignal): CommandContext {
  const env = io.env;
  const pick = (name: string, envName: string, fallback: string): string => {
    const v = options[name];
    if (typeof v === 'string' && v !== '') return v;
    const e = env[envName];
    return e !== undefined && e !== '' ? e : fallback;
  };
  const json = options['json'] === true;
  const clients = new ServiceClients(
    { service: 'registry', address: pick('registry', 'GRIOT_REGISTRY', DEFAULT_REGISTRY) },
    { service: 'content store', address: pick('content', 'GRIOT_CONTENT', DEFAULT_CONTENT) },
    tlsFiles({
      ca: pick('tls-ca', 'GRIOT_TLS_CA', ''),
      cert: pick('tls-cert', 'GRIOT_TLS_CERT', ''),
      key: pick('tls-key', 'GRIOT_TLS_KEY', ''),
    }),
    pick('audience', 'GRIOT_AUDIENCE', DEFAULT_AUDIENCE),
  );
  const ctx: CommandContext = {
    args,
    options,
    io,
    json,
    clients,
    audience: pick('audience', 'GRIOT_AUDIENCE', DEFAULT_AUDIENCE),
    signal,
    out: (line) => void io.stdout.write(`${line}\n`),
    info: (line, always = false) => {
      if (!json || always) io.stderr.write(`${line}\n`);
    },
    result: (value, human) => {
      if (json) io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else {
        const lines = human();
        for (const line of Array.isArray(lines) ? lines : [lines]) io.stdout.write(`${line}\n`);
      }
    },
    string: (name) => {
      const v = options[name];
      return typeof v === 'string' ? v : undefined;
    },
    required: (name) => {
      const v = options[name];
      if (typeof v !== 'string' || v === '') throw usageError(`--${name} is required (usage: griot ${command.usage})`);
      return v;
    },
  };
  return ctx;
}

/** Turns any error into the line to print and the exit code. */
export function describeError(err: unknown, verbose: boolean): { line: string; code: number } {
  if (err instanceof GriotClientError) err = toCliError(err);
  if (err instanceof CliError) {
    const cause = verbose && err.cause instanceof Error ? ` [cause: ${err.cause.stack ?? err.cause.message}]` : '';
    return { line: `${err.message}${cause}`, code: err.exitCode };
  }
  if (err instanceof UnsafeArchiveError || err instanceof PackageError) return { line: err.message, code: ExitCode.FAILURE };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    return { line: `${e.path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`, code: e.code === 'ENOENT' ? ExitCode.NOT_FOUND : ExitCode.FAILURE };
  }
  if (err instanceof Error && err.name === 'DidError') return { line: err.message, code: ExitCode.FAILURE };
  return { line: verbose && err instanceof Error ? (err.stack ?? err.message) : String((err as Error)?.message ?? err), code: ExitCode.FAILURE };
}

/**
 * Runs the CLI once.
 *
 * @param argv - The arguments after `griot`.
 * @param io - Streams and environment.
 * @param signal - Aborted to interrupt (SIGINT).
 * @returns The exit code.
 */
export async function runCli(argv: readonly string[], io: CliIo, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const { globals, rest: fromCommand } = splitLeadingGlobals(argv);
  if (fromCommand[0] === '--version' || fromCommand[0] === '-V' || fromCommand[0] === 'version' || (fromCommand.length === 0 && argv.includes('--version'))) {
    io.stdout.write(`${cliVersion()}\n`);
    return ExitCode.OK;
  }
  const wantsHelp = globals.includes('--help') || globals.includes('-h');
  if (fromCommand[0] === 'help' && fromCommand.length > 1) {
    const named = findCommand(fromCommand.slice(1));
    if (!named || named.rest.length > 0) {
      io.stderr.write(`griot: no command ${JSON.stringify(fromCommand.slice(1).join(' '))}; see griot --help\n`);
      return ExitCode.USAGE;
    }
    io.stdout.write(`${commandHelp(named.command)}\n`);
    return ExitCode.OK;
  }
  if (fromCommand.length === 0 || fromCommand[0] === '--help' || fromCommand[0] === '-h' || fromCommand[0] === 'help') {
    const ok = fromCommand.length > 0 || wantsHelp;
    (ok ? io.stdout : io.stderr).write(`${helpText()}\n`);
    return ok ? ExitCode.OK : ExitCode.USAGE;
  }
  const verbose = argv.includes('--verbose');
  const found = findCommand(fromCommand);
  if (!found) {
    io.stderr.write(`griot: unknown command ${JSON.stringify(fromCommand.slice(0, fromCommand[0] === 'content' || fromCommand[0] === 'owner' || fromCommand[0] === 'jobs' ? 2 : 1).join(' '))}; see griot --help\n`);
    return ExitCode.USAGE;
  }
  found.rest.unshift(...globals);
  const { command, rest } = found;
  let ctx: CommandContext | undefined;
  try {
    const { args, options } = parseCommandLine(command, rest);
    if (options['help'] === true) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return ExitCode.OK;
    }
    if (args.length < command.args.min || args.length > command.args.max) {
      throw usageError(`${args.length < command.args.min ? 'missing argument' : 'too many arguments'} (usage: griot ${command.usage})`);
    }
    ctx = makeContext(command, args, options, io, signal);
    const code = await command.run(ctx);
    return code ?? ExitCode.OK;
  } catch (err: unknown) {
    if (signal.aborted) {
      io.stderr.write('griot: interrupted\n');
      return ExitCode.INTERRUPTED;
    }
    const { line, code } = describeError(err, verbose);
    io.stderr.write(`griot: ${line}\n`);
    return code;
  } finally {
    ctx?.clients.close();
  }
}
