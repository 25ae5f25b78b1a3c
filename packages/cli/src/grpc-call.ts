/**
 * Service endpoints, the clients of both services (a {@link GriotClient}
 * made on first use), and one mapping from {@link GriotClientError}s to
 * {@link CliError}s: a service that cannot be reached is one line naming its
 * address.
 */
import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { callUnary, GriotClient, GriotClientError, toGriotClientError, type content, type registry, type TlsOptions, type UnaryStarter } from '@griot/client';
import type { UploadBlobClient } from '@griot/transport';
import { CliError, ExitCode } from './cli-error';
import { refusalLine } from './refusals';

/** Where a service is, and what to call it in messages. */
export interface Endpoint {
  /** `registry` or `content store`. */
  readonly service: string;
  /** `host:port`. */
  readonly address: string;
}

/** Default deadline of a unary call. */
export const UNARY_DEADLINE_MS = 30_000;

/** True for an error a call failed with: a {@link GriotClientError}, or a grpc-js error not mapped yet. */
export function isServiceError(err: unknown): err is GriotClientError | ServiceError {
  return err instanceof GriotClientError || toGriotClientError(err) instanceof GriotClientError;
}

/** ` (connection refused)`-style summary of grpc-js's long UNAVAILABLE details. */
function shortReason(details: string): string {
  const errno = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)\b/.exec(details)?.[1];
  if (errno === 'ECONNREFUSED') return ' (connection refused)';
  if (errno !== undefined) return ` (${errno})`;
  return details.length > 0 && details.length < 80 ? ` (${details})` : '';
}

/**
 * Turns an error from a call into a {@link CliError} with the right exit
 * code; other errors are returned unchanged.
 *
 * @param err - What the call threw (a {@link GriotClientError} or a grpc-js error).
 * @param endpoint - The service called, when the error does not say.
 */
export function toCliError(err: unknown, endpoint?: Endpoint): unknown {
  const failure = toGriotClientError(err, endpoint ?? {});
  if (!(failure instanceof GriotClientError)) return err;
  const service = endpoint?.service ?? failure.service ?? 'service';
  const address = endpoint?.address ?? failure.address ?? '';
  const details = failure.details;
  switch (failure.code) {
    case status.UNAVAILABLE:
      return new CliError(`cannot reach the ${service} at ${address}${shortReason(details)}`, ExitCode.UNAVAILABLE, { cause: failure });
    case status.DEADLINE_EXCEEDED:
      return new CliError(`the ${service} at ${address} did not answer in time`, ExitCode.UNAVAILABLE, { cause: failure });
    case status.NOT_FOUND:
      return new CliError(details, ExitCode.NOT_FOUND, { cause: failure });
    case status.UNIMPLEMENTED:
      return new CliError(`the ${service} at ${address} does not implement this call (${details})`, ExitCode.FAILURE, { cause: failure });
    case status.PERMISSION_DENIED:
      return new CliError(`${service} refused (PERMISSION_DENIED): ${refusalLine(details, failure.reason, failure.metadata)}`, ExitCode.FAILURE, { cause: failure });
    default: {
      const violations = failure.violations.map((v) => `${v.field}: ${v.description}`);
      // A field error the message already states is printed once.
      const missing = violations.filter((v) => !details.includes(v) && !details.includes(v.replace(': ', ' ')));
      const extra = missing.length > 0 ? `: ${missing.join('; ')}` : '';
      return new CliError(`${service} refused (${failure.codeName}): ${details}${extra}`, ExitCode.FAILURE, { cause: failure });
    }
  }
}

/**
 * Runs a unary call once as a promise, with a deadline and the error mapping
 * (the client's one promise wrapper, without retries: the metadata's token
 * is good for one call).
 *
 * @param endpoint - The service, for error messages.
 * @param start - Starts the call, e.g. `(md, o, cb) => client.getPackage(req, md, o, cb)`.
 * @param metadata - Call metadata (such as `authorization`).
 * @param deadlineMs - The call's deadline.
 */
export async function unary<T>(endpoint: Endpoint, start: UnaryStarter<T>, metadata?: Metadata, deadlineMs = UNARY_DEADLINE_MS): Promise<T> {
  try {
    return await callUnary({ ...endpoint, audience: '', deadlineMs, retry: { maxAttempts: 1, initialBackoffMs: 0, maxBackoffMs: 0, backoffMultiplier: 1, retryableCodes: [] } }, start, {
      metadata,
      identity: null,
    });
  } catch (err: unknown) {
    throw toCliError(err, endpoint);
  }
}

/** The clients of both services, made on first use. */
export class ServiceClients {
  private client?: GriotClient;

  /**
   * @param registryEndpoint - Where the registry is.
   * @param contentEndpoint - Where the content store is.
   * @param tls - The PEM files of TLS (mutual TLS with a certificate and key); plaintext when absent.
   * @param registryAudience - The audience of caller tokens for the registry.
   */
  constructor(
    readonly registryEndpoint: Endpoint,
    readonly contentEndpoint: Endpoint,
    private readonly tls?: TlsOptions,
    private readonly registryAudience?: string,
  ) {}

  /** The client of both services. */
  griot(): GriotClient {
    this.client ??= new GriotClient({
      registry: this.registryEndpoint.address,
      content: this.contentEndpoint.address,
      tls: this.tls,
      audiences: { registry: this.registryAudience },
      deadlineMs: UNARY_DEADLINE_MS,
    });
    return this.client;
  }

  /** The generated registry client. */
  registry(): registry.RegistryServiceClient {
    return this.griot().registry.raw;
  }

  /** The generated content store client, with the codecs that copy chunk bytes least. */
  content(): content.ContentServiceClient {
    return this.griot().content.raw;
  }

  /** The content store's UploadBlob client, which sends chunks without copying them. */
  uploads(): UploadBlobClient {
    return this.griot().content.uploads;
  }

  /** Closes the channels. */
  close(): void {
    this.client?.close();
  }
}

