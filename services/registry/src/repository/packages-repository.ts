/**
 * SQL of the `packages` table: insert (idempotent on the id), lookups by id,
 * name, name@version and ids, yanking, and the filtered, newest-first keyset
 * listing. Constructed on a transaction, its statements run in it.
 */
import type { Knex } from 'knex';
import { keysetAfterSql, translateSqlError, type Keyset, type KeysetCursor } from '@griot/server-kit';

/** A row of `packages`. */
export interface PackageRecord {
  /** SHA-256 hex of the artifact. */
  packageId: string;
  /** The signed manifest. */
  manifest: Record<string, unknown>;
  /** Where the artifact is. */
  artifactUrl: string;
  /** The author's did:key. */
  authorDid: string;
  /** The proof value. */
  signature: string;
  /** When it was registered. */
  createdAt: Date;
  /** created_at in microseconds since the epoch, exact (the keyset cursor). */
  createdAtMicros: string;
  /** Whether an owner (or migration 005) yanked it. */
  yanked: boolean;
  /** Why, when it is yanked. */
  yankReason: string | null;
}

/** The part of a package that a yank or unyank changes. */
export type YankState = Pick<PackageRecord, 'yanked' | 'yankReason'>;

/** What a new package row holds. */
export type NewPackageRecord = Omit<PackageRecord, 'createdAt' | 'createdAtMicros' | 'yanked' | 'yankReason'>;

/** Filters of {@link PackagesRepository.list}; unset ones match everything. */
export interface PackageFilters {
  /** Author did:key. */
  authorDid?: string;
  /** `manifest->>'name'`. */
  name?: string;
  /** `manifest->>'version'`. */
  version?: string;
  /** `manifest->>'nodeClass'`. */
  nodeClass?: string;
  /** `manifest @> contains`. */
  contains?: Record<string, unknown>;
  /** Also yanked packages (left out by default). */
  includeYanked?: boolean;
}

/** The order of package lists: (created_at, package_id), newest first; cursors hold created_at in microseconds. */
export const PACKAGE_KEYSET: Keyset = { time: 'created_at', id: 'package_id', order: 'desc', timeFormat: 'micros', idPattern: /^[0-9a-f]{64}$/ };

/** Where a page starts: after this package of {@link PACKAGE_KEYSET}. */
export type PackageCursor = KeysetCursor;

interface RawPackageRow {
  package_id: string;
  manifest: Record<string, unknown> | string;
  artifact_url: string;
  author_did: string;
  signature: string;
  created_at: Date | string;
  created_at_us: string;
  yanked: boolean;
  yank_reason: string | null;
}

const COLUMNS = `package_id, manifest, artifact_url, author_did, signature, created_at,
  (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint::text AS created_at_us, yanked, yank_reason`;

/**
 * The fewest matches from which a containment filter is answered by walking
 * the newest-first index rather than sorting its matches; on large tables
 * the threshold grows with the table (see {@link PackagesRepository.list}).
 */
export const CONTAINMENT_SORT_LIMIT = 1000;

const RAW_COLUMNS = 'package_id, manifest, artifact_url, author_did, signature, created_at, yanked, yank_reason';

/** The `packages` table. */
export class PackagesRepository {
  constructor(private readonly knex: Knex) {}

  /** The package with this id, if any; `lock` locks its row until the transaction ends. */
  async findById(packageId: string, options: { lock?: boolean } = {}): Promise<PackageRecord | undefined> {
    const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
      `SELECT ${COLUMNS} FROM packages WHERE package_id = ?${options.lock ? ' FOR UPDATE' : ''}`,
      [packageId],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * The yanked state of the packages with these ids (what a yank or unyank
   * changes; nothing else of a package ever does), by id; ids that are not
   * registered are left out.
   */
  async yankStates(packageIds: string[]): Promise<Map<string, YankState>> {
    const { rows } = await this.knex.raw<{ rows: { package_id: string; yanked: boolean; yank_reason: string | null }[] }>(
      'SELECT package_id, yanked, yank_reason FROM packages WHERE package_id = ANY(?::varchar[])',
      [packageIds],
    );
    return new Map(rows.map((r) => [r.package_id, { yanked: r.yanked, yankReason: r.yank_reason }]));
  }

  /** Every registration of `name@version`, yanked or not, oldest first. */
  async findByNameVersion(name: string, version: string): Promise<PackageRecord[]> {
    const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
      `SELECT ${COLUMNS} FROM packages WHERE manifest->>'name' = ? AND manifest->>'version' = ? ORDER BY created_at ASC NULLS LAST, package_id ASC`,
      [name, version],
    );
    return rows.map(toRow);
  }

  /**
   * Sets a package's yanked state and reason.
   * @returns The row as it is now, or undefined when no package has this id.
   */
  async setYanked(packageId: string, yanked: boolean, reason: string | null): Promise<PackageRecord | undefined> {
    try {
      const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
        `UPDATE packages SET yanked = ?, yank_reason = ? WHERE package_id = ? RETURNING ${COLUMNS}`,
        [yanked, yanked ? reason : null, packageId],
      );
      return rows[0] ? toRow(rows[0]) : undefined;
    } catch (err) {
      throw translateSqlError(err, { resourceType: 'Package', name: packageId });
    }
  }

  /** The packages with these ids, in no particular order. */
  async findByIds(packageIds: string[]): Promise<PackageRecord[]> {
    if (packageIds.length === 0) return [];
    const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(`SELECT ${COLUMNS} FROM packages WHERE package_id = ANY(?::varchar[])`, [packageIds]);
    return rows.map(toRow);
  }

  /** Every registered package with this manifest name, yanked or not, newest first. */
  async findByName(name: string): Promise<PackageRecord[]> {
    const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
      `SELECT ${COLUMNS} FROM packages WHERE manifest->>'name' = ? ORDER BY created_at DESC, package_id DESC`,
      [name],
    );
    return rows.map(toRow);
  }

  /**
   * Inserts a package unless its id exists.
   * @returns The row and whether this call inserted it (false: the existing row).
   */
  async insert(row: NewPackageRecord): Promise<{ row: PackageRecord; inserted: boolean }> {
    try {
      const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
        `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature)
           VALUES (?, ?::jsonb, ?, ?, ?)
           ON CONFLICT (package_id) DO NOTHING
           RETURNING ${COLUMNS}`,
        [row.packageId, JSON.stringify(row.manifest), row.artifactUrl, row.authorDid, row.signature],
      );
      if (rows[0]) return { row: toRow(rows[0]), inserted: true };
    } catch (err) {
      throw translateSqlError(err, { resourceType: 'Package', name: row.packageId });
    }
    const existing = await this.findById(row.packageId);
    if (!existing) throw new Error(`package ${row.packageId} conflicted on insert but cannot be read`);
    return { row: existing, inserted: false };
  }

  /**
   * One page of packages matching the filters, newest first; asks one more
   * row than `limit` to know whether more follow.
   *
   * With a containment filter (`manifest @> ?`), the planner's own choice is
   * unreliable: when the column statistics make a value look common, it walks
   * `idx_packages_created` newest first and filters, hoping to fill the page
   * early; for a value with 100 matches spread over 100k packages that reads
   * ~50k rows (32 ms) instead of 100 found through the GIN index (0.4 ms).
   * Forcing the GIN index and sorting the matches is no better for broad
   * values (all 100k packages match: ~50 ms). So one statement does both,
   * decided by the data rather than the estimate: it first takes up to T
   * matches (any order, GIN index); when there are fewer, it sorts those rows
   * and returns the page, without reading them again; when there are at least
   * T, matches are dense enough that walking the newest-first index (forced
   * by `OFFSET 0`, which keeps the containment test out of the index choice)
   * fills a page after about limit × total / matches rows, and it does that.
   * The walk tests containment with `jsonb_contains()` rather than `@>`: the
   * same test, but the planner's default selectivity for a function keeps the
   * branch's estimated cost low; with `@>`'s estimate on 1M rows the plan cost
   * passed `jit_above_cost` and every call spent ~20 ms compiling it.
   *
   * Sorting costs a heap visit per match, the walk a (cheaper, sequential)
   * visit per row walked, so the two meet near sqrt(limit × total) matches:
   * T is half that, read from the table's row estimate, and at least
   * {@link CONTAINMENT_SORT_LIMIT}. On 1M packages (T ≈ 3,600) a value with
   * 1,000 matches is sorted (1,000 heap visits) instead of walked (~51k rows).
   * Both branches order by the keyset (created_at DESC, package_id DESC) and
   * apply the same cursor, so pages are the same whichever branch answers.
   */
  async list(filters: PackageFilters, limit: number, after?: PackageCursor): Promise<{ rows: PackageRecord[]; more: boolean }> {
    const where: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    if (!filters.includeYanked) where.push('NOT yanked');
    if (filters.authorDid) {
      where.push('author_did = ?');
      bindings.push(filters.authorDid);
    }
    if (filters.name) {
      where.push("manifest->>'name' = ?");
      bindings.push(filters.name);
    }
    if (filters.version) {
      where.push("manifest->>'version' = ?");
      bindings.push(filters.version);
    }
    if (filters.nodeClass) {
      where.push("manifest->>'nodeClass' = ?");
      bindings.push(filters.nodeClass);
    }
    const contains = filters.contains && Object.keys(filters.contains).length > 0;
    if (after) {
      const keyset = keysetAfterSql(PACKAGE_KEYSET, after);
      where.push(keyset.sql);
      bindings.push(...keyset.bindings);
    }
    if (!contains) {
      const condition = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
        `SELECT ${COLUMNS} FROM packages ${condition} ORDER BY created_at DESC, package_id DESC LIMIT ?`,
        [...bindings, limit + 1],
      );
      return { rows: rows.slice(0, limit).map(toRow), more: rows.length > limit };
    }
    const others = where.length > 0 ? where.join(' AND ') : 'TRUE';
    const containment = JSON.stringify(filters.contains);
    const { rows } = await this.knex.raw<{ rows: RawPackageRow[] }>(
      `WITH threshold AS MATERIALIZED (
         SELECT greatest(?::int, (sqrt(greatest(reltuples, 0) * ?) / 2)::int) AS t FROM pg_class WHERE oid = 'packages'::regclass),
       probe AS MATERIALIZED (
         SELECT ${RAW_COLUMNS} FROM packages WHERE ${others} AND manifest @> ?::jsonb LIMIT (SELECT t FROM threshold))
       SELECT ${COLUMNS} FROM (
         (SELECT * FROM probe WHERE (SELECT count(*) FROM probe) < (SELECT t FROM threshold)
           ORDER BY created_at DESC, package_id DESC LIMIT ?)
         UNION ALL
         (SELECT * FROM (
             SELECT ${RAW_COLUMNS} FROM packages WHERE ${others} AND (SELECT count(*) FROM probe) >= (SELECT t FROM threshold)
              ORDER BY created_at DESC, package_id DESC OFFSET 0) walk
           WHERE jsonb_contains(manifest, ?::jsonb) LIMIT ?)) page
        ORDER BY created_at DESC, package_id DESC`,
      [CONTAINMENT_SORT_LIMIT, limit + 1, ...bindings, containment, limit + 1, ...bindings, containment, limit + 1],
    );
    return { rows: rows.slice(0, limit).map(toRow), more: rows.length > limit };
  }
}

function toRow(raw: RawPackageRow): PackageRecord {
  return {
    packageId: raw.package_id,
    manifest: typeof raw.manifest === 'string' ? (JSON.parse(raw.manifest) as Record<string, unknown>) : raw.manifest,
    artifactUrl: raw.artifact_url,
    authorDid: raw.author_did,
    signature: raw.signature,
    createdAt: raw.created_at instanceof Date ? raw.created_at : new Date(raw.created_at),
    createdAtMicros: raw.created_at_us,
    yanked: raw.yanked,
    yankReason: raw.yank_reason,
  };
}
