/**
 * The one error type of the client: a failed call becomes a
 * {@link GriotClientError} carrying the gRPC code, the server's message and
 * the `google.rpc` details it sent (ErrorInfo, BadRequest field violations),
 * decoded once from `grpc-status-details-bin`.
 */
import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { rpcErrorDetails, rpcStatus } from '@griot/proto';

/** One field at fault, from a `google.rpc.BadRequest` detail. */
export interface FieldViolation {
  /** The field path, such as `manifest.version`. */
  readonly field: string;
  /** What is wrong with it. */
  readonly description: string;
}

/** The `google.rpc` details of a status, as the server sent them. */
export interface StatusDetails {
  /** The ErrorInfo reason (UPPER_SNAKE), when there is one. */
  readonly reason?: string;
  /** The ErrorInfo domain, when there is one. */
  readonly domain?: string;
  /** The ErrorInfo metadata (empty without one). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The BadRequest field violations (empty without one). */
  readonly violations: readonly FieldViolation[];
  /** The ResourceInfo detail (the resource at fault), when there is one. */
  readonly resource?: { readonly type: string; readonly name: string };
}

/**
 * Decodes the `google.rpc.Status` details a server put in the
 * `grpc-status-details-bin` trailer. Undecodable details give no details:
 * the status code and message remain.
 *
 * @param trailers - The call's trailing metadata.
 */
export function decodeStatusDetails(trailers: Metadata | undefined): StatusDetails {
  const raw = trailers?.get('grpc-status-details-bin')[0];
  const out: { -readonly [K in keyof StatusDetails]: StatusDetails[K] } & { violations: FieldViolation[] } = { metadata: {}, violations: [] };
  if (raw === undefined || typeof raw === 'string') return out;
  try {
    for (const any of rpcStatus.Status.decode(raw).details) {
      const type = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
      if (type === 'google.rpc.ErrorInfo') {
        const info = rpcErrorDetails.ErrorInfo.decode(any.value);
        out.reason = info.reason;
        out.domain = info.domain;
        out.metadata = { ...info.metadata };
      } else if (type === 'google.rpc.BadRequest') {
        for (const v of rpcErrorDetails.BadRequest.decode(any.value).fieldViolations) out.violations.push({ field: v.field, description: v.description });
      } else if (type === 'google.rpc.ResourceInfo') {
        const info = rpcErrorDetails.ResourceInfo.decode(any.value);
        out.resource = { type: info.resourceType, name: info.resourceName };
      }
    }
  } catch {
    return { metadata: {}, violations: [] };
  }
  return out;
}

/** The name of a gRPC status code, such as `NOT_FOUND`. */
export function statusName(code: number): string {
  return (status[code] as string | undefined) ?? String(code);
}

/** True for an error that came from a grpc-js call (or the UploadBlob client, which answers the same way). */
export function isServiceError(err: unknown): err is ServiceError {
  // Duck-typed: another copy of grpc-js has another Metadata class.
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number' && typeof (err as ServiceError).metadata?.get === 'function';
}

/** What a {@link GriotClientError} is made from. */
export interface GriotClientErrorInit extends Partial<StatusDetails> {
  /** The gRPC status code. */
  readonly code: status;
  /** The status message. */
  readonly details: string;
  /** The call's trailing metadata. */
  readonly trailers?: Metadata;
  /** The service called: `registry` or `content store`. */
  readonly service?: string;
  /** Its address. */
  readonly address?: string;
  /** The original error. */
  readonly cause?: unknown;
}

/**
 * A call to the registry or the content store that failed: the gRPC status
 * with its decoded details. Every promise of this package rejects with one
 * for a failed call.
 */
export class GriotClientError extends Error {
  /** The gRPC status code (`status.NOT_FOUND` …). */
  readonly code: status;
  /** The code's name, such as `NOT_FOUND`. */
  readonly codeName: string;
  /** The status message as the server (or grpc-js) wrote it. */
  readonly details: string;
  /** The ErrorInfo reason, such as `NOT_A_PACKAGE_OWNER`, when the server sent one. */
  readonly reason?: string;
  /** The ErrorInfo domain, when the server sent one. */
  readonly domain?: string;
  /** The ErrorInfo metadata: the dynamic values of the refusal (empty without one). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The BadRequest field violations (empty without one). */
  readonly violations: readonly FieldViolation[];
  /** The call's trailing metadata, when there was a call. */
  readonly trailers?: Metadata;
  /** The service called: `registry` or `content store`. */
  readonly service?: string;
  /** Its `host:port`. */
  readonly address?: string;

  /** @param init - The status, its details and where it came from. */
  constructor(init: GriotClientErrorInit) {
    super(`${statusName(init.code)}: ${init.details}`, { cause: init.cause });
    this.name = 'GriotClientError';
    this.code = init.code;
    this.codeName = statusName(init.code);
    this.details = init.details;
    this.reason = init.reason;
    this.domain = init.domain;
    this.metadata = init.metadata ?? {};
    this.violations = init.violations ?? [];
    this.trailers = init.trailers;
    this.service = init.service;
    this.address = init.address;
  }
}

/**
 * Turns what a call threw into a {@link GriotClientError}: a gRPC error with
 * its details decoded; a {@link GriotClientError} or any other error is
 * returned unchanged.
 *
 * @param err - What the call threw.
 * @param where - The service called and its address, for messages.
 */
export function toGriotClientError(err: unknown, where: { service?: string; address?: string } = {}): unknown {
  if (err instanceof GriotClientError || !isServiceError(err)) return err;
  return new GriotClientError({
    code: err.code,
    details: err.details || err.message,
    trailers: err.metadata,
    ...decodeStatusDetails(err.metadata),
    ...where,
    cause: err,
  });
}

/**
 * A fault of a package folder or its manifest found before anything is sent
 * (a missing or invalid griot.json, a symbolic link, a manifest the registry
 * would refuse); its message names every field at fault.
 */
export class PackageError extends Error {
  /**
   * @param message - What is wrong, in one line.
   * @param violations - The fields at fault, when the fault is in fields.
   * @param options - The cause.
   */
  constructor(
    message: string,
    readonly violations: readonly FieldViolation[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PackageError';
  }
}
