/**
 * {@link GriotClient}: the registry and the content store, with one set of
 * options (addresses, TLS, the caller's identity, deadlines, retries).
 */
import { credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { Ed25519KeyPair } from '@griot/did';
import { DEFAULT_DEADLINE_MS, DEFAULT_RETRY_POLICY, type RetryPolicy } from './call';
import { ContentClient } from './content-client';
import { publish, type PublishOptions, type PublishOutcome } from './publish';
import { RegistryClient } from './registry-client';
import { CONTENT_AUDIENCE, REGISTRY_AUDIENCE, type Identity } from './tokens';

/** The default address of the registry. */
export const DEFAULT_REGISTRY_ADDRESS = '127.0.0.1:50051';

/** The default address of the content store. */
export const DEFAULT_CONTENT_ADDRESS = '127.0.0.1:50052';

/** TLS: PEM contents (Buffers or strings). */
export interface TlsOptions {
  /** CA certificates to trust; Node's default CAs when absent. */
  readonly ca?: Buffer | string | null;
  /** The client certificate, for mutual TLS (with `key`). */
  readonly cert?: Buffer | string | null;
  /** The private key of `cert`. */
  readonly key?: Buffer | string | null;
}

/** Options of a {@link GriotClient}. */
export interface GriotClientOptions {
  /** The registry's `host:port` (default 127.0.0.1:50051). */
  readonly registry?: string;
  /** The content store's `host:port` (default 127.0.0.1:50052). */
  readonly content?: string;
  /** TLS (mutual TLS with a certificate and key); plaintext when absent. */
  readonly tls?: TlsOptions;
  /** Who calls: every call carries a fresh caller token of this identity (an author, a node or an operator); none when absent. */
  readonly identity?: Identity | Ed25519KeyPair;
  /** The audiences of caller tokens, when the services are configured with others than `griot-registry` and `griot-content`. */
  readonly audiences?: { readonly registry?: string; readonly content?: string };
  /** The default deadline of a unary call (30 s). */
  readonly deadlineMs?: number;
  /** The retry policy of idempotent calls (reads); see {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** grpc-js channel options of both channels. */
  readonly channelOptions?: ChannelOptions;
}

function pem(value: Buffer | string | null | undefined): Buffer | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/**
 * Clients of both services. Calls return promises, reject with
 * {@link GriotClientError}, carry a fresh caller token and a deadline, and
 * reads are retried with jittered backoff.
 *
 * @example
 * ```ts
 * const client = new GriotClient({ registry: 'localhost:50051', content: 'localhost:50052', identity: await readIdentity('author.key') });
 * const { packageId } = await client.publish({ dir: './hello' }); // signed by the client's identity
 * const { packages } = await client.registry.listPackages({ name: 'hello' });
 * client.close();
 * ```
 */
export class GriotClient {
  /** The registry. */
  readonly registry: RegistryClient;
  /** The content store. */
  readonly content: ContentClient;
  /** The identity calls are made as, unless a call says otherwise. */
  readonly identity?: Identity | Ed25519KeyPair;

  /** @param options - Addresses, TLS, identity, deadlines, retries. */
  constructor(options: GriotClientOptions = {}) {
    const tls = options.tls ? { ca: pem(options.tls.ca), cert: pem(options.tls.cert), key: pem(options.tls.key) } : undefined;
    if (tls && Boolean(tls.cert) !== Boolean(tls.key)) throw new TypeError('tls.cert and tls.key go together');
    const channel: ChannelCredentials = tls ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createInsecure();
    const shared = { identity: options.identity, deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS, retry: { ...DEFAULT_RETRY_POLICY, ...options.retry } };
    this.identity = options.identity;
    this.registry = new RegistryClient(
      { ...shared, service: 'registry', address: options.registry ?? DEFAULT_REGISTRY_ADDRESS, audience: options.audiences?.registry ?? REGISTRY_AUDIENCE },
      channel,
      options.channelOptions,
    );
    this.content = new ContentClient(
      { ...shared, service: 'content store', address: options.content ?? DEFAULT_CONTENT_ADDRESS, audience: options.audiences?.content ?? CONTENT_AUDIENCE },
      channel,
      tls,
      options.channelOptions,
    );
  }

  /**
   * Publishes a package (pack, sign, check, upload, register); see {@link publish}.
   *
   * @param options - The package and its author (the client's identity when absent).
   */
  async publish(options: Omit<PublishOptions, 'author'> & { readonly author?: PublishOptions['author'] }): Promise<PublishOutcome> {
    const author = options.author ?? this.identity;
    if (author === undefined) throw new TypeError('publish needs an author: give options.author or the client an identity');
    return publish(this, { ...options, author });
  }

  /** Closes every channel; calls still running fail. */
  close(): void {
    this.registry.close();
    this.content.close();
  }
}
