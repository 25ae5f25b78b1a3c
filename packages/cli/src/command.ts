/**
 * What every command gets (parsed arguments, output, the service clients) and
 * what it must declare (name, usage, options).
 */
import type { ParseArgsConfig } from 'node:util';
import type { ServiceClients } from './grpc-call';

/** The streams and environment a run of the CLI uses. */
export interface CliIo {
  /** Results go here. */
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** Messages, progress and errors go here. */
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** The environment (GRIOT_REGISTRY, GRIOT_CONTENT, GRIOT_AUDIENCE). */
  readonly env: NodeJS.ProcessEnv;
}

/** Option values as parsed: strings, booleans, or lists for repeatable options. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What a command runs with. */
export interface CommandContext {
  /** Positional arguments after the command name. */
  readonly args: string[];
  /** Option values, global ones included. */
  readonly options: OptionValues;
  /** Streams and environment. */
  readonly io: CliIo;
  /** True with `--json`: one JSON document on stdout instead of human text. */
  readonly json: boolean;
  /** Clients of the registry and the content store (connected on first use). */
  readonly clients: ServiceClients;
  /** The audience of node identity tokens. */
  readonly audience: string;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr (human mode only, unless `always`). */
  info(line: string, always?: boolean): void;
  /** Prints a result: `value` as JSON with `--json`, else the human lines. */
  result(value: unknown, human: () => string | string[]): void;
  /** The string value of an option, or undefined. */
  string(name: string): string | undefined;
  /** The string value of an option that must be given. */
  required(name: string): string;
}

/** A command of the CLI. */
export interface Command {
  /** The name, such as `publish` or `content put`. */
  readonly name: string;
  /** The synopsis after `griot`, such as `publish DIR --key FILE`. */
  readonly usage: string;
  /** One sentence for `griot --help`. */
  readonly summary: string;
  /** Its options, in node:util parseArgs form. */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes. */
  readonly args: { readonly min: number; readonly max: number };
  /** Runs it; resolves with the exit code (default 0). */
  run(ctx: CommandContext): Promise<number | void>;
}
