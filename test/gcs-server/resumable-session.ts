/**
 * Resumable upload sessions: created by a `uploadType=resumable` POST, filled
 * by PUTs to the session URI with `Content-Range`, finalized into an object
 * once the total size is known and reached.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, GcsHttpError } from './gcs-error';
import type { ObjectTable, Preconditions, StoredObject } from './object-table';

/** One resumable upload in progress (or finished). */
export interface ResumableSession {
  /** The `upload_id` of the session URI. */
  id: string;
  /** Bucket name. */
  bucket: string;
  /** Object name. */
  name: string;
  /** Content type from `X-Upload-Content-Type` or the metadata. */
  contentType: string | undefined;
  /** Custom metadata from the initiating request. */
  metadata: Record<string, string> | undefined;
  /** Preconditions, checked at creation and again when finalizing. */
  conditions: Preconditions;
  /** Total size when announced (`X-Upload-Content-Length` or a `/N` range). */
  total: number | undefined;
  /** Bytes persisted so far. */
  chunks: Buffer[];
  /** Sum of `chunks`. */
  received: number;
  /** The object once finalized. */
  result: StoredObject | undefined;
}

/** `Content-Range` of a session PUT. */
export type ContentRange =
  /** `bytes * /N` or `bytes * / *`: a status query (or a finalize, when N equals what was received). */
  | { kind: 'query'; total: number | undefined }
  /** `bytes a-b/N`, `bytes a-* /N` (end unknown: the body runs to the end). */
  | { kind: 'data'; start: number; end: number | undefined; total: number | undefined };

/**
 * Parses a session PUT's `Content-Range` header.
 *
 * @param header - The raw header; a missing header means a whole upload in one request.
 */
export function parseContentRange(header: string | undefined): ContentRange {
  if (header === undefined) return { kind: 'data', start: 0, end: undefined, total: undefined };
  const query = /^bytes \*\/(\d+|\*)$/.exec(header.trim());
  if (query) return { kind: 'query', total: query[1] === '*' ? undefined : Number(query[1]) };
  const data = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(header.trim());
  if (!data) throw badRequest(`Invalid Content-Range: ${header}`);
  return {
    kind: 'data',
    start: Number(data[1]),
    end: data[2] === '*' ? undefined : Number(data[2]),
    total: data[3] === '*' ? undefined : Number(data[3]),
  };
}

/** Every open resumable session of the server. */
export class ResumableSessions {
  private readonly sessions = new Map<string, ResumableSession>();

  /** @param objects - Where finalized sessions write their object. */
  constructor(private readonly objects: ObjectTable) {}

  /**
   * Starts a session; preconditions are checked now, as GCS does.
   *
   * @param init - Everything but the id and the progress.
   */
  create(init: Omit<ResumableSession, 'id' | 'chunks' | 'received' | 'result'>): ResumableSession {
    this.objects.check(init.bucket, init.name, init.conditions);
    const session: ResumableSession = { ...init, id: randomUUID(), chunks: [], received: 0, result: undefined };
    this.sessions.set(session.id, session);
    return session;
  }

  /**
   * The session, or a 404 (GCS answers 404 for unknown or cancelled sessions).
   *
   * @param id - The `upload_id`.
   */
  get(id: string): ResumableSession {
    const session = this.sessions.get(id);
    if (!session) throw new GcsHttpError(404, 'notFound', 'No such upload session.');
    return session;
  }

  /**
   * Cancels a session (DELETE on the session URI).
   *
   * @param id - The `upload_id`.
   */
  cancel(id: string): void {
    this.get(id);
    this.sessions.delete(id);
  }

  /**
   * Appends the body of one completed PUT, skipping bytes the session already
   * has, and finalizes the object when the total is known and reached.
   *
   * @param session - The session.
   * @param range - The PUT's content range (kind `data`).
   * @param body - The PUT's whole body.
   */
  append(session: ResumableSession, range: Extract<ContentRange, { kind: 'data' }>, body: Buffer): void {
    if (session.result) return;
    if (range.end !== undefined && range.end - range.start + 1 !== body.length) {
      throw badRequest(`Content-Range covers ${range.end - range.start + 1} bytes but the body has ${body.length}.`);
    }
    if (range.start > session.received) {
      throw badRequest(`Upload data starts at ${range.start} but only ${session.received} bytes were received.`);
    }
    const fresh = body.subarray(Math.min(body.length, session.received - range.start));
    if (fresh.length > 0) {
      session.chunks.push(fresh);
      session.received += fresh.length;
    }
    // An open-ended range (`a-*`) whose body ended is the last request of the upload.
    const total = range.total ?? session.total ?? (range.end === undefined ? session.received : undefined);
    this.settleTotal(session, total);
  }

  /**
   * Finalizes the session when the total is known and reached.
   *
   * @param session - The session.
   * @param total - The announced total, if any.
   */
  settleTotal(session: ResumableSession, total: number | undefined): void {
    if (total === undefined || session.result) return;
    if (session.received > total) throw badRequest(`Received ${session.received} bytes, more than the total ${total}.`);
    session.total = total;
    if (session.received < total) return;
    session.result = this.objects.put(
      session.bucket,
      session.name,
      { contentType: session.contentType, data: Buffer.concat(session.chunks), metadata: session.metadata },
      session.conditions,
    );
    session.chunks = [];
  }
}
