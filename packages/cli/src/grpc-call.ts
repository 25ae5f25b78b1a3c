/**
 * Service endpoints, the generated clients, and one mapping from gRPC errors
 * to {@link CliError}s: a service that cannot be reached is one line naming
 * its address.
 */
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { content, registry, rpcErrorDetails, rpcStatus } from '@griot/proto';
import { contentCodecs, UploadBlobClient, type UploadBlobClientTls } from '@griot/transport';
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

/** True for an error that came from a gRPC call. */
export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number' && 'metadata' in err;
}

/** The ErrorInfo reason and metadata, and field violations, of a gRPC error, when the server sent them. */
export function statusDetails(err: ServiceError): { reason?: string; metadata: Record<string, string>; violations: string[] } {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  const out: { reason?: string; metadata: Record<string, string>; violations: string[] } = { metadata: {}, violations: [] };
  if (raw === undefined || typeof raw === 'string') return out;
  try {
    for (const any of rpcStatus.Status.decode(raw).details) {
      const type = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
      if (type === 'google.rpc.ErrorInfo') {
        const info = rpcErrorDetails.ErrorInfo.decode(any.value);
        out.reason = info.reason;
        out.metadata = { ...info.metadata };
      }
      if (type === 'google.rpc.BadRequest') {
        for (const v of rpcErrorDetails.BadRequest.decode(any.value).fieldViolations) out.violations.push(`${v.field}: ${v.description}`);
      }
    }
  } catch {
    // Undecodable details only lose the extra lines; the status message remains.
  }
  return out;
}

/** ` (connection refused)`-style summary of grpc-js's long UNAVAILABLE details. */
function shortReason(details: string): string {
  const errno = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)\b/.exec(details)?.[1];
  if (errno === 'ECONNREFUSED') return ' (connection refused)';
  if (errno !== undefined) return ` (${errno})`;
  return details.length > 0 && details.length < 80 ? ` (${details})` : '';
}

/**
 * Turns an error from a call to `endpoint` into a {@link CliError} with the
 * right exit code; other errors are returned unchanged.
 *
 * @param err - What the call threw.
 * @param endpoint - The service called.
 */
export function toCliError(err: unknown, endpoint: Endpoint): unknown {
  if (!isServiceError(err)) return err;
  const details = err.details || err.message;
  switch (err.code) {
    case status.UNAVAILABLE:
      return new CliError(`cannot reach the ${endpoint.service} at ${endpoint.address}${shortReason(details)}`, ExitCode.UNAVAILABLE, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new CliError(`the ${endpoint.service} at ${endpoint.address} did not answer in time`, ExitCode.UNAVAILABLE, { cause: err });
    case status.NOT_FOUND:
      return new CliError(details, ExitCode.NOT_FOUND, { cause: err });
    case status.UNIMPLEMENTED:
      return new CliError(`the ${endpoint.service} at ${endpoint.address} does not implement this call (${details})`, ExitCode.FAILURE, { cause: err });
    case status.PERMISSION_DENIED: {
      const { reason, metadata } = statusDetails(err);
      return new CliError(`${endpoint.service} refused (PERMISSION_DENIED): ${refusalLine(details, reason, metadata)}`, ExitCode.FAILURE, { cause: err });
    }
    default: {
      const { violations } = statusDetails(err);
      const name = (status[err.code] as string | undefined) ?? String(err.code);
      // A field error the message already states is printed once.
      const missing = violations.filter((v) => !details.includes(v) && !details.includes(v.replace(': ', ' ')));
      const extra = missing.length > 0 ? `: ${missing.join('; ')}` : '';
      return new CliError(`${endpoint.service} refused (${name}): ${details}${extra}`, ExitCode.FAILURE, { cause: err });
    }
  }
}

/** A callback-style unary call, started with the callback to answer. */
export type UnaryStarter<T> = (metadata: Metadata, options: { deadline: Date }, callback: (err: ServiceError | null, response: T) => void) => unknown;

/**
 * Runs a unary call as a promise, with a deadline and the error mapping.
 *
 * @param endpoint - The service, for error messages.
 * @param start - Starts the call, e.g. `(md, o, cb) => client.getPackage(req, md, o, cb)`.
 * @param metadata - Call metadata (such as `authorization`).
 * @param deadlineMs - The call's deadline.
 */
export function unary<T>(endpoint: Endpoint, start: UnaryStarter<T>, metadata = new Metadata(), deadlineMs = UNARY_DEADLINE_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start(metadata, { deadline: new Date(Date.now() + deadlineMs) }, (err, response) => (err ? reject(toCliError(err, endpoint)) : resolve(response)));
  });
}

/** The clients of both services, made on first use. */
export class ServiceClients {
  private registryClient?: registry.RegistryServiceClient;
  private contentClient?: content.ContentServiceClient;
  private uploadClient?: UploadBlobClient;
  private readonly channelCredentials: ChannelCredentials;

  /**
   * @param registryEndpoint - Where the registry is.
   * @param contentEndpoint - Where the content store is.
   * @param tls - The PEM files of TLS (mutual TLS with a certificate and key); plaintext when absent.
   */
  constructor(
    readonly registryEndpoint: Endpoint,
    readonly contentEndpoint: Endpoint,
    private readonly tls?: UploadBlobClientTls,
  ) {
    this.channelCredentials = tls ? credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : credentials.createInsecure();
  }

  /** The registry client. */
  registry(): registry.RegistryServiceClient {
    this.registryClient ??= new registry.RegistryServiceClient(this.registryEndpoint.address, this.channelCredentials);
    return this.registryClient;
  }

  /** The content store client, with the codecs that copy chunk bytes least. */
  content(): content.ContentServiceClient {
    this.contentClient ??= new contentCodecs.ContentServiceClient(this.contentEndpoint.address, this.channelCredentials);
    return this.contentClient;
  }

  /** The content store's UploadBlob client, which sends chunks without copying them. */
  uploads(): UploadBlobClient {
    this.uploadClient ??= new UploadBlobClient(this.contentEndpoint.address, { tls: this.tls });
    return this.uploadClient;
  }

  /** Closes the channels. */
  close(): void {
    this.registryClient?.close();
    this.contentClient?.close();
    this.uploadClient?.close();
  }
}

/**
 * Metadata carrying `authorization: Bearer <token>`.
 *
 * @param token - A node identity token.
 */
export function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}
