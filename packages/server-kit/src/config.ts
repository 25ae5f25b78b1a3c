/**
 * Configuration from environment variables, validated once at start. A bad
 * value throws a {@link ConfigError} naming the variable and the problem, which
 * the entry point prints as one line before exiting.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';

/** A configuration value that is not valid. */
export class ConfigError extends Error {
  /** @param variable - The environment variable at fault. @param problem - What is wrong with it. */
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Reads one variable: its raw value (undefined when unset) and its name. */
export type Parser<T> = (raw: string | undefined, name: string) => T;

/** The log levels pino knows, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

function present(raw: string | undefined): string | undefined {
  const trimmed = raw?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3 };

/** Parsers for the kinds of values Griot's variables hold. */
export const vars = {
  /** A `host:port` (or `[ipv6]:port`) to listen on or dial; port 0 asks the OS for one. */
  address(defaultValue?: string): Parser<string> {
    return (raw, name) => {
      const value = present(raw) ?? defaultValue;
      if (value === undefined) throw new ConfigError(name, 'is required (host:port)');
      const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
      if (!match || Number(match[2]) > 65535) {
        throw new ConfigError(name, `"${value}" is not host:port (for example 127.0.0.1:50051)`);
      }
      return value;
    };
  },
  /** An optional `host:port` (empty or unset: undefined, the feature is off); port 0 asks the OS for one. */
  optionalAddress(): Parser<string | undefined> {
    return (raw, name) => (present(raw) === undefined ? undefined : vars.address()(raw, name));
  },
  /** An optional `postgres://` URL; unset or empty means the embedded database. */
  postgresUrl(): Parser<string | undefined> {
    return (raw, name) => {
      const value = present(raw);
      if (value === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ConfigError(name, 'is not a URL (expected postgres://user@host:port/database)');
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        throw new ConfigError(name, `has scheme "${url.protocol}" but must be postgres:// (or empty for the embedded database)`);
      }
      if (url.pathname.length <= 1) throw new ConfigError(name, 'names no database (postgres://host:port/DATABASE)');
      return value;
    };
  },
  /** A filesystem path, made absolute. */
  path(defaultValue: string): Parser<string> {
    return (raw) => resolve(present(raw) ?? defaultValue);
  },
  /** A pino log level. */
  logLevel(defaultValue: LogLevel = 'info'): Parser<LogLevel> {
    return (raw, name) => {
      const value = (present(raw) ?? defaultValue).toLowerCase();
      if (!(LOG_LEVELS as readonly string[]).includes(value)) {
        throw new ConfigError(name, `"${value}" is not one of ${LOG_LEVELS.join(', ')}`);
      }
      return value as LogLevel;
    };
  },
  /** A whole number within bounds. */
  integer(defaultValue: number, bounds: { min?: number; max?: number } = {}): Parser<number> {
    return (raw, name) => {
      const value = present(raw);
      if (value === undefined) return defaultValue;
      if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `"${value}" is not a whole number`);
      return inBounds(name, Number(value), bounds, String);
    };
  },
  /** A duration such as `500ms`, `30s`, `10m`, `1h` or `7d`, in milliseconds. */
  duration(defaultValue: string, bounds: { min?: number; max?: number } = {}): Parser<number> {
    return (raw, name) => {
      const value = present(raw) ?? defaultValue;
      const match = /^(\d+)\s*(ms|s|m|h|d)$/i.exec(value);
      if (!match) throw new ConfigError(name, `"${value}" is not a duration (for example 500ms, 30s, 10m, 1h)`);
      const ms = Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!;
      return inBounds(name, ms, bounds, (n) => `${n}ms`);
    };
  },
  /** A size such as `1048576`, `64KiB`, `4MiB` or `1GiB`, in bytes. */
  bytes(defaultValue: string, bounds: { min?: number; max?: number } = {}): Parser<number> {
    return (raw, name) => {
      const value = present(raw) ?? defaultValue;
      const match = /^(\d+)\s*([KMG]i?B|B)?$/i.exec(value);
      if (!match) throw new ConfigError(name, `"${value}" is not a size (for example 65536, 64KiB, 4MiB)`);
      const n = Number(match[1]) * BYTE_UNITS[(match[2] ?? '').toLowerCase()]!;
      return inBounds(name, n, bounds, (v) => `${v} bytes`);
    };
  },
  /** One of a fixed set of words. */
  oneOf<T extends string>(values: readonly T[], defaultValue: T): Parser<T> {
    return (raw, name) => {
      const value = present(raw) ?? defaultValue;
      if (!(values as readonly string[]).includes(value)) {
        throw new ConfigError(name, `"${value}" is not one of ${values.join(', ')}`);
      }
      return value as T;
    };
  },
  /** An optional path to a file that must exist and be readable (a certificate, a key). */
  file(): Parser<string | undefined> {
    return (raw, name) => {
      const value = present(raw);
      if (value === undefined) return undefined;
      try {
        accessSync(value, constants.R_OK);
      } catch (err) {
        throw new ConfigError(name, `cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      return resolve(value);
    };
  },
  /** `true` or `false` (also `1`/`0`, `yes`/`no`); unset or empty gives the default. */
  boolean(defaultValue: boolean): Parser<boolean> {
    return (raw, name) => {
      const value = present(raw)?.toLowerCase();
      if (value === undefined) return defaultValue;
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no'].includes(value)) return false;
      throw new ConfigError(name, `"${value}" is not true or false`);
    };
  },
  /** Any string; unset or empty gives the default. */
  string<D extends string | undefined>(defaultValue: D): Parser<string | D> {
    return (raw) => present(raw) ?? defaultValue;
  },
};

function inBounds(name: string, n: number, bounds: { min?: number; max?: number }, show: (n: number) => string): number {
  if (!Number.isSafeInteger(n)) throw new ConfigError(name, 'is too large');
  if (bounds.min !== undefined && n < bounds.min) throw new ConfigError(name, `must be at least ${show(bounds.min)}`);
  if (bounds.max !== undefined && n > bounds.max) throw new ConfigError(name, `must be at most ${show(bounds.max)}`);
  return n;
}

/** The parsed values of a configuration spec. */
export type ConfigOf<S extends Record<string, Parser<unknown>>> = { [K in keyof S]: ReturnType<S[K]> };

/**
 * Parses every variable of a spec from the environment.
 * @throws ConfigError on the first invalid variable.
 */
export function readConfig<S extends Record<string, Parser<unknown>>>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, parse] of Object.entries(spec)) out[name] = parse(env[name], name);
  return out as ConfigOf<S>;
}
