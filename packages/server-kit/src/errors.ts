/**
 * Typed errors of the domain layers. Each carries a gRPC status code, a stable
 * UPPER_SNAKE reason and its dynamic values; {@link toGrpcStatus} maps them to
 * a status once, at the edge. The domain layers never import gRPC themselves:
 * they throw these.
 */

/**
 * The gRPC status codes, with the numbers the wire carries
 * (https://grpc.github.io/grpc/core/md_doc_statuscodes.html): the domain
 * layers name a code without importing a gRPC library.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** One of the {@link Code} values. */
export type Code = (typeof Code)[keyof typeof Code];

const CODE_NAMES = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** The name of a status code, such as `NOT_FOUND`; the number as text for one outside {@link Code}. */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? String(code);
}

/** One invalid field of a request. */
export interface FieldViolation {
  /** Dot-separated path of the field, such as `start.sha256`. */
  field: string;
  /** A sentence saying why it is invalid. */
  description: string;
}

/** Options common to every {@link GriotError}. */
export interface GriotErrorOptions {
  /** Dynamic values of the error, sent as ErrorInfo metadata. */
  metadata?: Record<string, string | number | boolean>;
  /** Invalid request fields, sent as a BadRequest detail. */
  fieldViolations?: FieldViolation[];
  /** The resource at fault, sent as a ResourceInfo detail. */
  resource?: { type: string; name: string };
  /** The underlying error, logged but never sent. */
  cause?: unknown;
}

/** An error whose code, reason and message are meant for the caller. */
export class GriotError extends Error {
  /** The error's dynamic values, as strings. */
  readonly metadata: Record<string, string>;
  /** Invalid request fields, if any. */
  readonly fieldViolations: FieldViolation[];
  /** The resource at fault, if any. */
  readonly resource?: { type: string; name: string };

  /**
   * @param code - The gRPC status code.
   * @param reason - A stable UPPER_SNAKE reason, such as DIGEST_MISMATCH.
   * @param message - A sentence for a person.
   */
  constructor(
    readonly code: Code,
    readonly reason: string,
    message: string,
    options: GriotErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GriotError';
    this.metadata = Object.fromEntries(Object.entries(options.metadata ?? {}).map(([k, v]) => [k, String(v)]));
    this.fieldViolations = options.fieldViolations ?? [];
    this.resource = options.resource;
  }
}

/** Bad input: INVALID_ARGUMENT with BadRequest field violations. */
export function invalidArgument(
  reason: string,
  message: string,
  violations: FieldViolation[] = [],
  options: Omit<GriotErrorOptions, 'fieldViolations'> = {},
): GriotError {
  return new GriotError(Code.INVALID_ARGUMENT, reason, message, { ...options, fieldViolations: violations });
}

/** Bad input in one field: INVALID_ARGUMENT naming the field. */
export function invalidField(field: string, reason: string, description: string, metadata?: GriotErrorOptions['metadata']): GriotError {
  return invalidArgument(reason, `${field}: ${description}`, [{ field, description }], { metadata });
}

/** A resource that does not exist: NOT_FOUND with ResourceInfo. */
export function notFound(resourceType: string, name: string, message?: string): GriotError {
  return new GriotError(Code.NOT_FOUND, `${snake(resourceType)}_NOT_FOUND`, message ?? `${resourceType} ${name} was not found`, {
    resource: { type: resourceType, name },
    metadata: { [camel(resourceType)]: name },
  });
}

/** A resource that already exists differently: ALREADY_EXISTS with ResourceInfo. */
export function alreadyExists(resourceType: string, name: string, message: string, reason?: string): GriotError {
  return new GriotError(Code.ALREADY_EXISTS, reason ?? `${snake(resourceType)}_ALREADY_EXISTS`, message, {
    resource: { type: resourceType, name },
  });
}

/** A call not allowed in the current state: FAILED_PRECONDITION. */
export function failedPrecondition(reason: string, message: string, metadata?: GriotErrorOptions['metadata']): GriotError {
  return new GriotError(Code.FAILED_PRECONDITION, reason, message, { metadata });
}

/** A caller that did not prove who it is: UNAUTHENTICATED. */
export function unauthenticated(reason: string, message: string): GriotError {
  return new GriotError(Code.UNAUTHENTICATED, reason, message);
}

/** A caller that may not do this: PERMISSION_DENIED. */
export function permissionDenied(reason: string, message: string, metadata?: GriotErrorOptions['metadata']): GriotError {
  return new GriotError(Code.PERMISSION_DENIED, reason, message, { metadata });
}

/**
 * A limit was reached: RESOURCE_EXHAUSTED, whose metadata names the limit
 * (`limit`, the setting that raises it, and its value).
 */
export function resourceExhausted(reason: string, message: string, metadata?: GriotErrorOptions['metadata']): GriotError {
  return new GriotError(Code.RESOURCE_EXHAUSTED, reason, message, { metadata });
}

/** A dependency that cannot be reached right now: UNAVAILABLE. */
export function unavailable(reason: string, message: string, cause?: unknown): GriotError {
  return new GriotError(Code.UNAVAILABLE, reason, message, { cause });
}

function snake(type: string): string {
  const base = type.split('.').pop() ?? type;
  return base.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function camel(type: string): string {
  const base = type.split('.').pop() ?? type;
  return base.charAt(0).toLowerCase() + base.slice(1);
}
