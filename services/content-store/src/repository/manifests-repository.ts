/**
 * SQL of the Labox tables `labox_manifests` and `labox_contents`.
 */
import type { Knex } from 'knex';
import { keysetAfterSql, keysetOrderSql, keysetTimeSql, withSqlErrors, type Keyset, type KeysetCursor } from '@griot/server-kit';

/** How a serializer produced its bytes. */
export type SerializerKind = 'value' | 'stream';

/** A content record. */
export interface ContentRecord {
  /** The content's id. */
  id: string;
  /** When it was saved. */
  createdAt: Date;
  /** Its manifest. */
  manifestId: string;
  /** Its key, unique within the manifest. */
  contentKey: string;
  /** MIME type. */
  contentType: string;
  /** Encoding, or null. */
  contentEncoding: string | null;
  /** Size in bytes. */
  contentSize: number;
  /** Hash, lowercase hex. */
  contentHash: string;
  /** Always sha256. */
  contentHashAlgorithm: string;
  /** Serializer name. */
  serializerName: string;
  /** Serializer configuration. */
  serializerConfig: Record<string, unknown>;
  /** Value or stream. */
  serializerType: SerializerKind;
  /** Storage name. */
  storageName: string;
  /** Storage configuration. */
  storageConfig: Record<string, unknown>;
}

/** A manifest record with its contents, ordered by key. */
export interface ManifestRecord {
  /** The manifest's id. */
  id: string;
  /** When it was saved. */
  createdAt: Date;
  /** The object's class. */
  classId: string;
  /** The unpacker's name. */
  unpackerName: string;
  /** Tags, a JSON object. */
  tags: Record<string, unknown>;
  /** The did:key that created it; null for manifests made before creators were recorded (migration 003). */
  creatorDid: string | null;
  /** The contents. */
  contents: ContentRecord[];
}

/** What a new content record holds. */
export type NewContent = Omit<ContentRecord, 'id' | 'createdAt' | 'manifestId'>;

/** The filters of a manifest listing. */
export interface ManifestFilter {
  /** JSON the tags must contain. */
  tags?: Record<string, unknown>;
  /** Class id. */
  classId?: string;
  /** Created at or after. */
  createdAfter?: Date;
  /** Created before. */
  createdBefore?: Date;
}

/** The order of manifest lists: (created_at, id), oldest first; cursors hold created_at in UTC ISO 8601 with microseconds. */
export const MANIFEST_KEYSET: Keyset = { time: 'created_at', id: 'id', idType: 'uuid', order: 'asc', timeFormat: 'iso', idPattern: /^[0-9a-f-]{36}$/ };

/** The position after the last manifest of a page of {@link MANIFEST_KEYSET}. */
export type ManifestCursor = KeysetCursor;

interface ManifestRow {
  id: string;
  created_at: Date;
  class_id: string;
  unpacker_name: string;
  tags: Record<string, unknown> | string;
  creator_did: string | null;
  cursor_time: string;
}

interface ContentRow {
  id: string;
  created_at: Date;
  manifest_id: string;
  content_key: string;
  content_type: string;
  content_encoding: string | null;
  content_size: number | string;
  content_hash: string;
  content_hash_algorithm: string;
  serializer_name: string;
  serializer_config: Record<string, unknown> | string;
  serializer_type: SerializerKind;
  storage_name: string;
  storage_config: Record<string, unknown> | string;
}

const MANIFEST_COLUMNS = `id, created_at, class_id, unpacker_name, tags, creator_did,
  ${keysetTimeSql(MANIFEST_KEYSET)} AS cursor_time`;
const CONTENT_COLUMNS = `id, created_at, manifest_id, content_key, content_type, content_encoding, content_size, content_hash,
  content_hash_algorithm, serializer_name, serializer_config, serializer_type, storage_name, storage_config`;
const RESOURCE = { resourceType: 'griot.content.v1.Manifest' };

function json(value: Record<string, unknown> | string): Record<string, unknown> {
  return typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : value;
}

function toContent(row: ContentRow): ContentRecord {
  return {
    id: row.id,
    createdAt: new Date(row.created_at),
    manifestId: row.manifest_id,
    contentKey: row.content_key,
    contentType: row.content_type,
    contentEncoding: row.content_encoding,
    contentSize: Number(row.content_size),
    contentHash: row.content_hash,
    contentHashAlgorithm: row.content_hash_algorithm,
    serializerName: row.serializer_name,
    serializerConfig: json(row.serializer_config),
    serializerType: row.serializer_type,
    storageName: row.storage_name,
    storageConfig: json(row.storage_config),
  };
}

function toManifest(row: ManifestRow, contents: ContentRecord[]): ManifestRecord {
  return {
    id: row.id,
    createdAt: new Date(row.created_at),
    classId: row.class_id,
    unpackerName: row.unpacker_name,
    tags: json(row.tags),
    creatorDid: row.creator_did,
    contents,
  };
}

async function contentsOf(db: Knex, manifestIds: string[]): Promise<Map<string, ContentRecord[]>> {
  const out = new Map<string, ContentRecord[]>(manifestIds.map((id) => [id, []]));
  if (manifestIds.length === 0) return out;
  const { rows } = await db.raw<{ rows: ContentRow[] }>(
    `SELECT ${CONTENT_COLUMNS} FROM labox_contents WHERE manifest_id = ANY(?::uuid[]) ORDER BY manifest_id, content_key`,
    [manifestIds],
  );
  for (const row of rows) out.get(row.manifest_id)?.push(toContent(row));
  return out;
}

/** The SQL of manifests and contents. */
export const manifestsRepository = {
  /**
   * Inserts a manifest and its contents (call inside a transaction). With an
   * `id` that is taken, inserts nothing and answers undefined: `ON CONFLICT DO
   * NOTHING` waits for a concurrent insert of the same id to commit or roll
   * back, so two racing creations of one id cannot both succeed.
   */
  async insert(
    trx: Knex.Transaction,
    manifest: { id?: string; creatorDid: string; classId: string; unpackerName: string; tags: Record<string, unknown>; createdAt: Date; contents: NewContent[] },
  ): Promise<ManifestRecord | undefined> {
    return withSqlErrors(RESOURCE, async () => {
      const { rows } = await trx.raw<{ rows: ManifestRow[] }>(
        `INSERT INTO labox_manifests (id, created_at, class_id, unpacker_name, tags, creator_did)
         VALUES (COALESCE(?::uuid, gen_random_uuid()), ?, ?, ?, ?::jsonb, ?)
         ON CONFLICT (id) DO NOTHING RETURNING ${MANIFEST_COLUMNS}`,
        [manifest.id ?? null, manifest.createdAt, manifest.classId, manifest.unpackerName, JSON.stringify(manifest.tags), manifest.creatorDid],
      );
      const row = rows[0];
      if (!row) return undefined;
      const contents: ContentRecord[] = [];
      for (const c of manifest.contents) {
        const inserted = await trx.raw<{ rows: ContentRow[] }>(
          `INSERT INTO labox_contents (created_at, manifest_id, content_key, content_type, content_encoding, content_size, content_hash,
             content_hash_algorithm, serializer_config, serializer_name, serializer_type, storage_name, storage_config)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::labox_serializer_type, ?, ?::jsonb) RETURNING ${CONTENT_COLUMNS}`,
          [
            manifest.createdAt,
            row.id,
            c.contentKey,
            c.contentType,
            c.contentEncoding,
            c.contentSize,
            c.contentHash,
            c.contentHashAlgorithm,
            JSON.stringify(c.serializerConfig),
            c.serializerName,
            c.serializerType,
            c.storageName,
            JSON.stringify(c.storageConfig),
          ],
        );
        contents.push(toContent(inserted.rows[0]!));
      }
      contents.sort((a, b) => (a.contentKey < b.contentKey ? -1 : a.contentKey > b.contentKey ? 1 : 0));
      return toManifest(row, contents);
    });
  },

  /**
   * Serializes the creations of one client-chosen manifest id until the end
   * of the transaction, before any blob is locked: two creations of one id
   * that both locked their blobs first would wait on each other's insert
   * (a deadlock).
   */
  async lockNewId(trx: Knex.Transaction, id: string): Promise<void> {
    await trx.raw("SELECT pg_advisory_xact_lock(hashtextextended('labox_manifests:' || ?, 0))", [id]);
  },

  /** A manifest with its contents; `lock` locks the manifest row for update (inside a transaction). */
  async find(db: Knex, id: string, options: { lock?: boolean } = {}): Promise<ManifestRecord | undefined> {
    const { rows } = await db.raw<{ rows: ManifestRow[] }>(
      `SELECT ${MANIFEST_COLUMNS} FROM labox_manifests WHERE id = ?${options.lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    if (!rows[0]) return undefined;
    return toManifest(rows[0], (await contentsOf(db, [id])).get(id) ?? []);
  },

  /** Deletes a manifest; its contents go with it (ON DELETE CASCADE). */
  async remove(trx: Knex.Transaction, id: string): Promise<void> {
    await trx.raw('DELETE FROM labox_manifests WHERE id = ?', [id]);
  },

  /** A content by id. */
  async findContent(db: Knex, id: string): Promise<ContentRecord | undefined> {
    const { rows } = await db.raw<{ rows: ContentRow[] }>(`SELECT ${CONTENT_COLUMNS} FROM labox_contents WHERE id = ?`, [id]);
    return rows[0] && toContent(rows[0]);
  },

  /** A content by manifest and key. */
  async findContentByKey(db: Knex, manifestId: string, contentKey: string): Promise<ContentRecord | undefined> {
    const { rows } = await db.raw<{ rows: ContentRow[] }>(
      `SELECT ${CONTENT_COLUMNS} FROM labox_contents WHERE manifest_id = ? AND content_key = ?`,
      [manifestId, contentKey],
    );
    return rows[0] && toContent(rows[0]);
  },

  /**
   * One page of manifests matching the filter, in (created_at, id) order,
   * after the cursor; asks one more than `limit` so the caller knows whether
   * another page follows.
   */
  async list(
    db: Knex,
    filter: ManifestFilter,
    after: ManifestCursor | undefined,
    limit: number,
    maxBytes = Infinity,
  ): Promise<{ manifests: ManifestRecord[]; last?: ManifestCursor; more: boolean }> {
    const where: string[] = [];
    const bindings: Knex.Value[] = [];
    if (filter.tags && Object.keys(filter.tags).length > 0) {
      where.push('tags @> ?::jsonb');
      bindings.push(JSON.stringify(filter.tags));
    }
    if (filter.classId) {
      where.push('class_id = ?');
      bindings.push(filter.classId);
    }
    if (filter.createdAfter) {
      where.push('created_at >= ?');
      bindings.push(filter.createdAfter);
    }
    if (filter.createdBefore) {
      where.push('created_at < ?');
      bindings.push(filter.createdBefore);
    }
    if (after) {
      const keyset = keysetAfterSql(MANIFEST_KEYSET, after);
      where.push(keyset.sql);
      bindings.push(...keyset.bindings);
    }
    // Each row's size as an answer would carry it (tags and contents, as JSON and text, plus 256 bytes each), without reading the contents.
    const { rows } = await db.raw<{ rows: (ManifestRow & { approx_bytes: string | number })[] }>(
      `SELECT ${MANIFEST_COLUMNS},
              octet_length(tags::text) + 256 + COALESCE((
                SELECT sum(octet_length(c.content_key) + octet_length(COALESCE(c.serializer_config::text, ''))
                           + octet_length(COALESCE(c.storage_config::text, '')) + 256)
                  FROM labox_contents c WHERE c.manifest_id = labox_manifests.id), 0) AS approx_bytes
         FROM labox_manifests ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${keysetOrderSql(MANIFEST_KEYSET)} LIMIT ?`,
      [...bindings, limit + 1],
    );
    // A page ends early (with more to read) rather than pass `maxBytes`; it always holds one manifest.
    let bytes = 0;
    let end = 0;
    while (end < Math.min(limit, rows.length)) {
      bytes += Number(rows[end]!.approx_bytes);
      if (end > 0 && bytes > maxBytes) break;
      end += 1;
    }
    const page = rows.slice(0, end);
    const contents = await contentsOf(db, page.map((r) => r.id));
    const last = page[page.length - 1];
    return {
      manifests: page.map((r) => toManifest(r, contents.get(r.id) ?? [])),
      last: last && { t: last.cursor_time, id: last.id },
      more: rows.length > end,
    };
  },
};
