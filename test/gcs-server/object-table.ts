/**
 * The server's objects: every bucket's live objects, with generation numbers
 * and the preconditions that guard writes. In memory; buckets exist as soon as
 * they are named.
 */
import { createHash } from 'node:crypto';
import { crc32cBase64 } from './crc32c';
import { conditionNotMet, noSuchObject } from './gcs-error';

/** One live object version. */
export interface StoredObject {
  /** Bucket name. */
  bucket: string;
  /** Object name. */
  name: string;
  /** Generation, unique per write. */
  generation: number;
  /** Content type sent with the upload. */
  contentType: string;
  /** The object's bytes. */
  data: Buffer;
  /** CRC32C, base64. */
  crc32c: string;
  /** MD5, base64; composite objects have none, as in GCS. */
  md5Hash: string | undefined;
  /** Number of components for composite objects. */
  componentCount: number | undefined;
  /** Custom metadata (`metadata` of the object resource). */
  metadata: Record<string, string> | undefined;
  /** Creation time. */
  timeCreated: Date;
}

/** Generation preconditions from the query string; `ifGenerationMatch=0` means "must not exist". */
export interface Preconditions {
  /** The live generation must equal this (0: there must be no live object). */
  ifGenerationMatch?: number;
  /** The live generation must differ from this. */
  ifGenerationNotMatch?: number;
}

/** What a new object is made of. */
export interface NewObject {
  /** Content type. */
  contentType?: string;
  /** Bytes. */
  data: Buffer;
  /** Custom metadata. */
  metadata?: Record<string, string>;
  /** Set for composite objects. */
  componentCount?: number;
}

/** Every bucket's objects, keyed by bucket then name. */
export class ObjectTable {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  // Microsecond-like generation numbers, as GCS uses; strictly increasing.
  private lastGeneration = Date.now() * 1000;

  /**
   * The live object, or a 404.
   *
   * @param bucket - Bucket name.
   * @param name - Object name.
   * @param generation - When given, that generation must be the live one.
   */
  get(bucket: string, name: string, generation?: number): StoredObject {
    const object = this.bucket(bucket).get(name);
    if (!object || (generation !== undefined && object.generation !== generation)) throw noSuchObject(bucket, name);
    return object;
  }

  /**
   * Checks generation preconditions against the live object.
   *
   * @param bucket - Bucket name.
   * @param name - Object name.
   * @param conditions - Preconditions from the request.
   * @throws GcsHttpError 412 when one does not hold.
   */
  check(bucket: string, name: string, conditions: Preconditions): void {
    const live = this.bucket(bucket).get(name)?.generation ?? 0;
    if (conditions.ifGenerationMatch !== undefined && conditions.ifGenerationMatch !== live) throw conditionNotMet();
    if (conditions.ifGenerationNotMatch !== undefined && conditions.ifGenerationNotMatch === live) throw conditionNotMet();
  }

  /**
   * Writes a new generation of an object, after checking preconditions.
   *
   * @param bucket - Bucket name.
   * @param name - Object name.
   * @param object - Contents and metadata.
   * @param conditions - Preconditions from the request.
   */
  put(bucket: string, name: string, object: NewObject, conditions: Preconditions): StoredObject {
    this.check(bucket, name, conditions);
    const stored: StoredObject = {
      bucket,
      name,
      generation: ++this.lastGeneration,
      contentType: object.contentType ?? 'application/octet-stream',
      data: object.data,
      crc32c: crc32cBase64(object.data),
      md5Hash: object.componentCount === undefined ? createHash('md5').update(object.data).digest('base64') : undefined,
      componentCount: object.componentCount,
      metadata: object.metadata,
      timeCreated: new Date(),
    };
    this.bucket(bucket).set(name, stored);
    return stored;
  }

  /**
   * Deletes the live object, or throws a 404.
   *
   * @param bucket - Bucket name.
   * @param name - Object name.
   * @param conditions - Preconditions from the request.
   */
  delete(bucket: string, name: string, conditions: Preconditions): void {
    this.get(bucket, name);
    this.check(bucket, name, conditions);
    this.bucket(bucket).delete(name);
  }

  /**
   * The bucket's live objects, sorted by name.
   *
   * @param bucket - Bucket name.
   */
  list(bucket: string): StoredObject[] {
    return [...this.bucket(bucket).values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private bucket(name: string): Map<string, StoredObject> {
    let objects = this.buckets.get(name);
    if (!objects) {
      objects = new Map();
      this.buckets.set(name, objects);
    }
    return objects;
  }
}
