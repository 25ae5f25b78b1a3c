/**
 * The one mapping from errors to gRPC statuses, with google.rpc details in
 * the `grpc-status-details-bin` trailer, and its inverse for clients.
 */
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { rpcErrorDetails, rpcStatus } from '@griot/proto';
import { Code, GriotError } from './errors';

const TYPE_PREFIX = 'type.googleapis.com/';
const DETAILS_KEY = 'grpc-status-details-bin';

/** Where a status came from, for the ErrorInfo domain and the INTERNAL message. */
export interface StatusContext {
  /** The ErrorInfo domain, such as `content.griot.dev`. */
  domain: string;
  /** The request id, quoted in INTERNAL messages so that operators can find the log line. */
  requestId?: string;
}

/** The gRPC codes a database or network failure becomes. */
const TRANSIENT_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for errors that mean a dependency (such as PostgreSQL) is unreachable. */
export function isUnavailableError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string') {
    if (TRANSIENT_ERRNOS.has(e.code)) return true;
    // SQLSTATE class 08 (connection exception) and 57P01-57P03 (admin shutdown, crash, cannot connect now).
    if (/^08/.test(e.code) || /^57P0[123]$/.test(e.code)) return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection/i.test(
    message,
  );
}

/**
 * True for errors that mean a disk is full: SQLSTATE 53100 (disk_full),
 * PGlite's "could not extend file" (its WASM file system reports no SQLSTATE
 * for it), ENOSPC or EDQUOT.
 */
export function isDiskFullError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === '53100' || e.code === 'ENOSPC' || e.code === 'EDQUOT') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /could not extend file|No space left on device/i.test(message);
}

/** True for errors that mean the process or the system is out of file descriptors (EMFILE, ENFILE). */
export function isOutOfFilesError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * Maps any error to the status sent to the caller. A {@link GriotError} keeps
 * its code and message and gains ErrorInfo, BadRequest and ResourceInfo
 * details; a full disk (53100, ENOSPC) and EMFILE/ENFILE become
 * RESOURCE_EXHAUSTED; an unreachable dependency becomes UNAVAILABLE; anything else
 * becomes INTERNAL with no detail of the cause.
 */
export function toGrpcStatus(err: unknown, context: StatusContext): StatusObject {
  if (err instanceof GriotError) return fromGriotError(err, context);
  if (isDiskFullError(err)) {
    return fromGriotError(
      new GriotError(Code.RESOURCE_EXHAUSTED, 'DISK_FULL', 'the disk of the database or storage is full; nothing was written; retry once space is freed'),
      context,
    );
  }
  if (isOutOfFilesError(err)) {
    return fromGriotError(
      new GriotError(Code.RESOURCE_EXHAUSTED, 'TOO_MANY_OPEN_FILES', 'the server has run out of open files (EMFILE); retry in a few seconds', {
        metadata: { retryAfterSeconds: 5 },
      }),
      context,
    );
  }
  if (isUnavailableError(err)) {
    return fromGriotError(new GriotError(Code.UNAVAILABLE, 'DEPENDENCY_UNAVAILABLE', 'the database is unavailable; retry later'), context);
  }
  const suffix = context.requestId ? ` (request id ${context.requestId})` : '';
  return fromGriotError(new GriotError(Code.INTERNAL, 'INTERNAL', `internal error${suffix}`), context);
}

function fromGriotError(err: GriotError, context: StatusContext): StatusObject {
  const details = [
    pack('google.rpc.ErrorInfo', rpcErrorDetails.ErrorInfo.encode({ reason: err.reason, domain: context.domain, metadata: err.metadata }).finish()),
  ];
  if (err.fieldViolations.length > 0) {
    details.push(pack('google.rpc.BadRequest', rpcErrorDetails.BadRequest.encode({ fieldViolations: err.fieldViolations }).finish()));
  }
  if (err.resource) {
    details.push(
      pack(
        'google.rpc.ResourceInfo',
        rpcErrorDetails.ResourceInfo.encode({ resourceType: err.resource.type, resourceName: err.resource.name, owner: '', description: err.message }).finish(),
      ),
    );
  }
  const metadata = new Metadata();
  metadata.set(DETAILS_KEY, Buffer.from(rpcStatus.Status.encode({ code: err.code, message: err.message, details }).finish()));
  return { code: err.code, details: err.message, metadata };
}

function pack(typeName: string, value: Uint8Array): { typeUrl: string; value: Buffer } {
  return { typeUrl: TYPE_PREFIX + typeName, value: Buffer.from(value) };
}
