/**
 * Translation of PostgreSQL errors (SQLSTATE) into the typed errors callers
 * understand; the only place that knows SQLSTATE codes. Both services'
 * repository layers call it around their writes.
 */
import { alreadyExists, failedPrecondition, GriotError, invalidArgument } from './errors';

/** What a constraint violation is about, for the message. */
export interface SqlErrorContext {
  /** The resource type, such as `griot.content.v1.Manifest`. */
  resourceType: string;
  /** Its name, when known. */
  name?: string;
}

/**
 * Maps a database error to a {@link GriotError}: 23505 (unique) →
 * ALREADY_EXISTS, 23503 (foreign key) → FAILED_PRECONDITION, 22P02 (bad text
 * representation), 22P05 and 22021 (bad characters) → INVALID_ARGUMENT.
 * Anything else is returned unchanged (the edge makes it INTERNAL or UNAVAILABLE).
 */
export function translateSqlError(err: unknown, context: SqlErrorContext): unknown {
  if (err instanceof GriotError || typeof err !== 'object' || err === null) return err;
  const code = (err as { code?: unknown }).code;
  const detail = String((err as { detail?: unknown }).detail ?? '');
  switch (code) {
    case '23505':
      return alreadyExists(context.resourceType, context.name ?? '', `${context.resourceType} ${context.name ?? ''} already exists${detail ? `: ${detail}` : ''}`.trim());
    case '23503':
      return failedPrecondition('REFERENCE_MISSING', `a referenced record does not exist${detail ? `: ${detail}` : ''}`);
    case '22P02':
    case '22P05':
    case '22021':
      return invalidArgument('INVALID_VALUE', `a value is not valid for the database: ${(err as Error).message}`);
    default:
      return err;
  }
}

/** Runs a query and translates its SQLSTATE errors. */
export async function withSqlErrors<T>(context: SqlErrorContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw translateSqlError(err, context);
  }
}
