/**
 * What every call shares: its deadline, its caller token, and retries with
 * jittered exponential backoff for the calls that may be repeated.
 *
 * Retries are this loop's rather than grpc-js's service-config retry policy:
 * grpc-js resends a retried call with the same metadata, and a caller token
 * is good for one call only, so each attempt here gets a fresh token.
 */
import { Metadata, status, type CallOptions as GrpcCallOptions, type ServiceError } from '@grpc/grpc-js';
import type { Ed25519KeyPair } from '@griot/did';
import { GriotClientError, toGriotClientError } from './errors';
import { callerMetadata, type Identity } from './tokens';

/** The default deadline of a unary call. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** How an idempotent call is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  readonly maxAttempts: number;
  /** The backoff ceiling before the first retry; each retry waits a random time up to its ceiling. */
  readonly initialBackoffMs: number;
  /** The largest backoff ceiling. */
  readonly maxBackoffMs: number;
  /** How much the ceiling grows per retry. */
  readonly backoffMultiplier: number;
  /** The status codes retried. */
  readonly retryableCodes: readonly status[];
}

/** Four attempts, backoff ceilings 100 ms, 200 ms, 400 ms; only UNAVAILABLE is retried. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  backoffMultiplier: 2,
  retryableCodes: [status.UNAVAILABLE],
};

/**
 * The backoff before retry number `retry` (1 for the first): a random time
 * between 0 and the ceiling ("full jitter"), so that many clients cut off
 * together do not come back together.
 *
 * @param policy - The retry policy.
 * @param retry - The retry's number, from 1.
 * @param random - A number in [0, 1).
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random = Math.random()): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.backoffMultiplier ** (retry - 1));
  return Math.floor(random * ceiling);
}

/** Options of one call. */
export interface CallOptions {
  /** The call's deadline from now; the client's default (30 s) when absent. */
  readonly deadlineMs?: number;
  /**
   * Who makes the call: a fresh caller token of this identity goes with it.
   * The client's identity when absent; `null` for no token.
   */
  readonly identity?: Identity | Ed25519KeyPair | null;
  /** More metadata to send; an `authorization` entry here replaces the token. */
  readonly metadata?: Metadata;
  /** Aborting it cancels the call (it then fails with CANCELLED). */
  readonly signal?: AbortSignal;
  /** The retry policy of an idempotent call, or `false` for none; non-idempotent calls are never retried. */
  readonly retry?: Partial<RetryPolicy> | false;
}

/** Where calls go and how, for a service's client. */
export interface CallSite {
  /** `registry` or `content store`, for messages. */
  readonly service: string;
  /** `host:port`. */
  readonly address: string;
  /** The audience of caller tokens for this service. */
  readonly audience: string;
  /** The identity calls are made as, unless a call says otherwise. */
  readonly identity?: Identity | Ed25519KeyPair;
  /** The default deadline. */
  readonly deadlineMs: number;
  /** The retry policy of idempotent calls. */
  readonly retry: RetryPolicy;
}

/** A request as the caller writes it: fields left out take their proto3 defaults. */
export type RequestOf<T> = Partial<T>;

/**
 * Fills a partial request with the defaults of its message.
 *
 * @param codec - The generated message (its `fromPartial`).
 * @param request - The fields given.
 */
export function fillRequest<T>(codec: { fromPartial(object: never): T }, request: RequestOf<T>): T {
  return (codec.fromPartial as (object: RequestOf<T>) => T)(request);
}

/** A callback-style unary call, started with its metadata, options and callback. */
export type UnaryStarter<T> = (metadata: Metadata, options: GrpcCallOptions, callback: (err: ServiceError | null, response?: T) => void) => { cancel(): void };

/**
 * The metadata of one attempt: the call's own metadata and a fresh caller
 * token, unless the metadata carries an `authorization` already or the call
 * is anonymous.
 *
 * @param site - The service.
 * @param options - The call's options.
 */
export function attemptMetadata(site: Pick<CallSite, 'audience' | 'identity'>, options: Pick<CallOptions, 'identity' | 'metadata'> = {}): Metadata {
  const md = options.metadata?.clone() ?? new Metadata();
  const identity = options.identity === undefined ? site.identity : options.identity;
  if (identity && md.get('authorization').length === 0) md.merge(callerMetadata(identity, site.audience));
  return md;
}

/** The retry policy of a call: none when not idempotent or turned off. */
export function retryPolicyOf(site: Pick<CallSite, 'retry'>, options: Pick<CallOptions, 'retry'>, idempotent: boolean): RetryPolicy {
  if (!idempotent || options.retry === false) return { ...site.retry, maxAttempts: 1 };
  return { ...site.retry, ...options.retry };
}

/**
 * Waits `ms`, or less when the signal is aborted.
 *
 * @param ms - How long.
 * @param signal - Cuts the wait short.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The error of a call cancelled through its signal. */
export function cancelledError(site: Pick<CallSite, 'service' | 'address'>): GriotClientError {
  return new GriotClientError({ code: status.CANCELLED, details: 'the call was cancelled by its caller', service: site.service, address: site.address });
}

/**
 * Runs a unary call as a promise: a fresh token and deadline per attempt,
 * retries of an idempotent call on the policy's codes, errors as
 * {@link GriotClientError}s.
 *
 * @param site - The service.
 * @param start - Starts one attempt, e.g. `(md, o, cb) => raw.getPackage(request, md, o, cb)`.
 * @param options - The call's options.
 * @param idempotent - True when repeating the call is harmless (reads).
 */
export async function callUnary<T>(site: CallSite, start: UnaryStarter<T>, options: CallOptions = {}, idempotent = false): Promise<T> {
  const policy = retryPolicyOf(site, options, idempotent);
  const where = { service: site.service, address: site.address };
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted) throw cancelledError(site);
    try {
      return await new Promise<T>((resolve, reject) => {
        const deadline = new Date(Date.now() + (options.deadlineMs ?? site.deadlineMs));
        const call = start(attemptMetadata(site, options), { deadline }, (err, response) => {
          options.signal?.removeEventListener('abort', cancel);
          if (err) reject(err);
          else resolve(response as T);
        });
        const cancel = (): void => call.cancel();
        options.signal?.addEventListener('abort', cancel, { once: true });
      });
    } catch (err: unknown) {
      const failure = toGriotClientError(err, where);
      if (options.signal?.aborted) throw cancelledError(site);
      if (!(failure instanceof GriotClientError) || attempt >= policy.maxAttempts || !policy.retryableCodes.includes(failure.code)) throw failure;
      await sleep(backoffDelay(policy, attempt), options.signal);
    }
  }
}
