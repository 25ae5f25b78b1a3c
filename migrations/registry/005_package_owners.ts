/**
 * Package names have owners, versions are immutable and can be yanked.
 *
 * - `package_names`: one row per package name, inserted by the first
 *   registration of the name (`INSERT … ON CONFLICT DO NOTHING`) and locked
 *   (`FOR UPDATE`) by every later change to the name (a registration, an
 *   owner change, a yank), so two first registrations of one new name
 *   racing are serialized and exactly one wins: the other then finds the
 *   winner's owner.
 * - `package_owners`: the did:keys that may publish versions of a name,
 *   manage its owners and yank its versions.
 * - `package_audit_log`: append-only, every owner change and yank with who
 *   did it and when; `ListPackageOwners` pages it newest first.
 * - `packages.yanked`, `packages.yank_reason`: range resolution skips
 *   yanked versions.
 * - `idx_packages_name_version`: a unique index on (name, version) of the
 *   packages that are not yanked.
 *
 * Existing rows are all kept. Each name's owner is the author of its earliest
 * registration (oldest `created_at`, rows without one last, then the
 * package id), recorded as an OWNER_ADDED audit entry made by that author.
 * Registrations that break the new rules are yanked, each with a reason that
 * says which rule and an audit entry VERSION_YANKED whose actor is
 * `migration:005`: first every version signed by another author than the
 * owner, then, of the remaining registrations of one name@version, every one
 * but the earliest. That audit entry is the migration's log of what it
 * yanked: the registry logs those entries (a warning each) when it has just
 * applied this migration, and `ListPackageOwners` shows them.
 *
 * Down drops the tables, the columns and the index; packages keep every row
 * (their yanked state and the owners are lost).
 */
import type { Knex } from 'knex';

/** The actor of the audit entries this migration writes. */
const MIGRATION_ACTOR = 'migration:005';

/** Each name's first registration (oldest, rows without a time last, then by id): its author owns the name. */
const FIRST = `
  SELECT DISTINCT ON (manifest->>'name') manifest->>'name' AS name, author_did, package_id, COALESCE(created_at, NOW()) AS created_at
    FROM packages
   ORDER BY manifest->>'name', created_at ASC NULLS LAST, package_id ASC`;

/** Creates the tables, columns and index, and fills them from the existing packages. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE package_names (
      name TEXT PRIMARY KEY,
      created_by VARCHAR(255) NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`);
  await knex.raw(`
    CREATE TABLE package_owners (
      name TEXT NOT NULL REFERENCES package_names (name) ON DELETE CASCADE,
      owner_did VARCHAR(255) NOT NULL,
      added_by VARCHAR(255) NOT NULL,
      added_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      PRIMARY KEY (name, owner_did)
    )`);
  await knex.raw(`
    CREATE TABLE package_audit_log (
      id BIGSERIAL PRIMARY KEY,
      name TEXT NOT NULL,
      action VARCHAR(32) NOT NULL
        CHECK (action IN ('OWNER_ADDED', 'OWNER_REMOVED', 'VERSION_YANKED', 'VERSION_UNYANKED')),
      actor_did VARCHAR(255) NOT NULL,
      owner_did VARCHAR(255),
      package_id VARCHAR(64),
      reason TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`);
  await knex.raw('CREATE INDEX idx_package_audit_log_name ON package_audit_log (name, id DESC)');
  await knex.raw('ALTER TABLE packages ADD COLUMN yanked BOOLEAN NOT NULL DEFAULT false, ADD COLUMN yank_reason TEXT');

  await knex.raw(`
    INSERT INTO package_names (name, created_by, created_at) SELECT name, author_did, created_at FROM (${FIRST}) f`);
  await knex.raw(`
    INSERT INTO package_owners (name, owner_did, added_by, added_at) SELECT name, author_did, author_did, created_at FROM (${FIRST}) f`);
  await knex.raw(`
    INSERT INTO package_audit_log (name, action, actor_did, owner_did, created_at)
    SELECT name, 'OWNER_ADDED', author_did, author_did, created_at FROM (${FIRST}) f ORDER BY created_at, name`);

  // Versions signed by someone else than the owner.
  await knex.raw(
    `WITH f AS (${FIRST}),
     yanked AS (
       UPDATE packages p
          SET yanked = true,
              yank_reason = 'yanked by migration 005: signed by ' || p.author_did || ', who does not own ' || f.name ||
                            '; its owner is ' || f.author_did || ', the author of its first registration (' || f.package_id || ')'
         FROM f
        WHERE p.manifest->>'name' = f.name AND p.author_did <> f.author_did
        RETURNING p.package_id, f.name, p.yank_reason, p.created_at)
     INSERT INTO package_audit_log (name, action, actor_did, package_id, reason)
     SELECT name, 'VERSION_YANKED', ?, package_id, yank_reason FROM yanked ORDER BY created_at NULLS LAST, package_id`,
    [MIGRATION_ACTOR],
  );

  // A second artifact for one name@version: the earliest registration keeps it.
  await knex.raw(
    `WITH ranked AS (
       SELECT package_id, manifest->>'name' AS name, manifest->>'version' AS version,
              first_value(package_id) OVER w AS kept,
              row_number() OVER w AS n
         FROM packages
        WHERE NOT yanked
       WINDOW w AS (PARTITION BY manifest->>'name', manifest->>'version' ORDER BY created_at ASC NULLS LAST, package_id ASC)),
     yanked AS (
       UPDATE packages p
          SET yanked = true,
              yank_reason = 'yanked by migration 005: a second artifact for ' || r.name || '@' || r.version ||
                            '; a version is registered once, and ' || r.kept || ' was registered first'
         FROM ranked r
        WHERE p.package_id = r.package_id AND r.n > 1
        RETURNING p.package_id, r.name, p.yank_reason, p.created_at)
     INSERT INTO package_audit_log (name, action, actor_did, package_id, reason)
     SELECT name, 'VERSION_YANKED', ?, package_id, yank_reason FROM yanked ORDER BY created_at NULLS LAST, package_id`,
    [MIGRATION_ACTOR],
  );

  await knex.raw(`
    CREATE UNIQUE INDEX idx_packages_name_version ON packages ((manifest->>'name'), (manifest->>'version')) WHERE NOT yanked`);
}

/** Drops the index, the columns and the tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS idx_packages_name_version');
  await knex.raw('ALTER TABLE packages DROP COLUMN yank_reason, DROP COLUMN yanked');
  await knex.raw('DROP TABLE package_audit_log');
  await knex.raw('DROP TABLE package_owners');
  await knex.raw('DROP TABLE package_names');
}
