/**
 * The one pino factory: JSON lines, or pretty output on a TTY; credentials
 * redacted wherever they appear in a logged object; errors (`{ err }`)
 * bounded, so that a database error does not log its parameters in full.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';
import { boundedErrorSerializer } from './log-serializers';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The minimum level to write. */
  level: LogLevel;
  /** The service name put on every line. */
  name?: string;
  /** Pretty, colored lines instead of JSON; defaults to whether stdout is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests); not with `pretty`. */
  destination?: DestinationStream;
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
  const pretty = options.destination === undefined && (options.pretty ?? process.stdout.isTTY === true);
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: boundedErrorSerializer },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
