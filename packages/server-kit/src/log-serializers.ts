/**
 * The `err` serializer of every logger: pino's standard one, then bounded.
 * A database error carries its query's parameters (PGlite's `params`, and
 * knex writes the SQL with every binding into the message), and PostgreSQL
 * quotes a bad value in its own message: a failing query with a 1 MiB
 * parameter must not log a 1 MiB line. Every string is cut to
 * {@link LOGGED_STRING_MAX_CHARS} (the message and stack keep their head and
 * tail, where the SQL and PostgreSQL's reason are), arrays to
 * {@link LOGGED_ARRAY_MAX_ITEMS} items, nesting to a few levels, and the
 * whole serialized error to about {@link LOGGED_ERROR_MAX_CHARS}.
 */
import pino from 'pino';

/** Longest string of a logged error's field (a binding, a detail), in characters. */
export const LOGGED_STRING_MAX_CHARS = 200;

/** Longest logged error message, and stack, in characters (head and tail kept). */
export const LOGGED_MESSAGE_MAX_CHARS = 1000;

/** Most items of an array (bindings, params) logged. */
export const LOGGED_ARRAY_MAX_ITEMS = 20;

/** Longest serialized error, in characters of JSON, about. */
export const LOGGED_ERROR_MAX_CHARS = 4096;

/** Nested objects deeper than this are logged as `[object]`. */
const MAX_DEPTH = 4;

/** Cuts a string to `max` characters, saying how much was cut; `tail` characters of its end are kept. */
export function truncateString(value: string, max: number, tail = 0): string {
  if (value.length <= max) return value;
  const cut = value.length - max;
  const marker = `…[${cut} chars cut]…`;
  return `${value.slice(0, max - tail)}${marker}${tail > 0 ? value.slice(value.length - tail) : ''}`;
}

function bound(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return truncateString(value, LOGGED_STRING_MAX_CHARS);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) {
    const items = value.slice(0, LOGGED_ARRAY_MAX_ITEMS).map((v) => bound(v, depth + 1));
    if (value.length > LOGGED_ARRAY_MAX_ITEMS) items.push(`…[${value.length - LOGGED_ARRAY_MAX_ITEMS} more items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = bound(v, depth + 1);
  return out;
}

/**
 * Bounds a serialized error (see the module comment).
 * @param serialized - What pino's standard `err` serializer made.
 */
export function boundSerializedError(serialized: Record<string, unknown>): Record<string, unknown> {
  const { message, stack, ...rest } = serialized;
  const out = bound(rest, 0) as Record<string, unknown>;
  if (typeof message === 'string') out['message'] = truncateString(message, LOGGED_MESSAGE_MAX_CHARS, LOGGED_MESSAGE_MAX_CHARS / 2);
  if (typeof stack === 'string') {
    // The stack starts with the message again: cut that copy the same way, and keep the frames.
    const full = typeof message === 'string' && message.length > LOGGED_MESSAGE_MAX_CHARS ? stack.split(message).join(String(out['message'])) : stack;
    out['stack'] = truncateString(full, 2 * LOGGED_MESSAGE_MAX_CHARS, LOGGED_MESSAGE_MAX_CHARS);
  }
  // Still too long (many fields): drop the largest fields but the essentials until it fits.
  const essentials = new Set(['type', 'message', 'code', 'stack']);
  let size = JSON.stringify(out).length;
  while (size > LOGGED_ERROR_MAX_CHARS) {
    const largest = Object.keys(out)
      .filter((k) => !essentials.has(k))
      .sort((a, b) => JSON.stringify(out[b] ?? null).length - JSON.stringify(out[a] ?? null).length)[0];
    if (largest === undefined) {
      if (typeof out['stack'] === 'string') out['stack'] = truncateString(out['stack'], LOGGED_MESSAGE_MAX_CHARS, LOGGED_MESSAGE_MAX_CHARS / 2);
      break;
    }
    delete out[largest];
    out['truncated'] = true;
    size = JSON.stringify(out).length;
  }
  return out;
}

/** The `err` serializer: pino's standard one, bounded. */
export function boundedErrorSerializer(err: unknown): unknown {
  const serialized = pino.stdSerializers.err(err as Error) as unknown;
  if (serialized === null || typeof serialized !== 'object') return serialized;
  return boundSerializedError(serialized as Record<string, unknown>);
}
