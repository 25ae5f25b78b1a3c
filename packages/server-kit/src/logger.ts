/**
 * The one pino factory: JSON lines, or pretty output on a TTY; credentials
 * redacted wherever they appear in a logged object.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The minimum level to write. */
  level: LogLevel;
  /** The service name put on every line. */
  name?: string;
  /** Pretty, colored lines instead of JSON; defaults to whether stdout is a TTY. */
  pretty?: boolean;
}

/** Paths whose values are replaced by `[redacted]`. */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'metadata.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
];

/** Creates the process's root logger. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
