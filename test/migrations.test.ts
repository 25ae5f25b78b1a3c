/**
 * Both services' migrations, on real PostgreSQL and on PGlite: the seed
 * schemas come out exactly (columns, types, nullability, defaults, keys,
 * indexes), and rollback then latest again works.
 */
import type { Knex } from 'knex';
import { runMigrations } from '@griot/server-kit';
import { createTestDatabase, DB_KINDS, SERVICE_MIGRATIONS, type TestDatabase } from '@griot/test/support/database';

interface Column {
  column_name: string;
  data_type: string;
  udt_name: string;
  character_maximum_length: number | null;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
}

async function columns(knex: Knex, table: string): Promise<Record<string, Column>> {
  const { rows } = await knex.raw<{ rows: Column[] }>(
    `SELECT column_name, data_type, udt_name, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position`,
    [table],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r]));
}

async function indexDefs(knex: Knex, table: string): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { indexdef: string }[] }>('SELECT indexdef FROM pg_indexes WHERE tablename = ?', [table]);
  return rows.map((r) => r.indexdef);
}

async function foreignKeys(knex: Knex, table: string): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { def: string }[] }>(
    `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ? AND c.contype = 'f'`,
    [table],
  );
  return rows.map((r) => r.def);
}

async function tableNames(knex: Knex): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { table_name: string }[] }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

/** Asserts a column's type (as `type` or `varchar(n)`), nullability and default. */
function expectColumn(cols: Record<string, Column>, name: string, type: string, nullable: boolean, defaultMatch?: RegExp): void {
  const col = cols[name];
  expect(col).toBeDefined();
  const actual =
    col!.data_type === 'character varying'
      ? `varchar(${col!.character_maximum_length})`
      : col!.data_type === 'ARRAY'
        ? `${col!.udt_name.replace(/^_/, '')}[]`
        : col!.data_type === 'USER-DEFINED'
          ? col!.udt_name
          : col!.data_type;
  expect({ name, type: actual, nullable: col!.is_nullable === 'YES' }).toEqual({ name, type, nullable });
  if (defaultMatch) expect(col!.column_default).toMatch(defaultMatch);
  else expect({ name, default: col!.column_default }).toEqual({ name, default: null });
}

describe.each(DB_KINDS)('migrations on %s', (kind) => {
  describe('registry', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(kind, 'registry');
    });
    afterAll(() => t.drop());

    it('creates packages exactly as the seed', async () => {
      const cols = await columns(t.db.knex, 'packages');
      expect(Object.keys(cols).slice(0, 6)).toEqual(['package_id', 'manifest', 'artifact_url', 'author_did', 'signature', 'created_at']);
      expectColumn(cols, 'package_id', 'varchar(64)', false);
      expectColumn(cols, 'manifest', 'jsonb', false);
      expectColumn(cols, 'artifact_url', 'text', false);
      expectColumn(cols, 'author_did', 'varchar(255)', false);
      expectColumn(cols, 'signature', 'text', false);
      expectColumn(cols, 'created_at', 'timestamp with time zone', true, /now\(\)/);
      const indexes = await indexDefs(t.db.knex, 'packages');
      expect(indexes).toEqual(expect.arrayContaining([expect.stringMatching(/UNIQUE INDEX packages_pkey .*\(package_id\)/)]));
      expect(indexes).toEqual(expect.arrayContaining([expect.stringMatching(/INDEX idx_packages_manifest ON public\.packages USING gin \(manifest\)/)]));
    });

    it('creates installations exactly as the seed', async () => {
      const cols = await columns(t.db.knex, 'installations');
      expect(Object.keys(cols).slice(0, 8)).toEqual([
        'job_id', 'package_id', 'target_node_id', 'status', 'status_message', 'logs', 'created_at', 'completed_at',
      ]);
      expectColumn(cols, 'job_id', 'uuid', false, /gen_random_uuid\(\)/);
      expectColumn(cols, 'package_id', 'varchar(64)', false);
      expectColumn(cols, 'target_node_id', 'varchar(255)', false);
      expectColumn(cols, 'status', 'varchar(50)', false);
      expectColumn(cols, 'status_message', 'text', true);
      expectColumn(cols, 'logs', 'text[]', true, undefined);
      expectColumn(cols, 'created_at', 'timestamp with time zone', true, /now\(\)/);
      expectColumn(cols, 'completed_at', 'timestamp with time zone', true);
      expect(await foreignKeys(t.db.knex, 'installations')).toContain('FOREIGN KEY (package_id) REFERENCES packages(package_id)');
      expect(await indexDefs(t.db.knex, 'installations')).toEqual(
        expect.arrayContaining([expect.stringMatching(/INDEX idx_installations_status ON public\.installations USING btree \(status\)/)]),
      );
    });

    it('adds package names, owners, the audit log and yanks (005)', async () => {
      const packages = await columns(t.db.knex, 'packages');
      expectColumn(packages, 'yanked', 'boolean', false, /false/);
      expectColumn(packages, 'yank_reason', 'text', true);
      expect(await indexDefs(t.db.knex, 'packages')).toEqual(
        expect.arrayContaining([expect.stringMatching(/UNIQUE INDEX idx_packages_name_version ON public\.packages .*\(\(manifest ->> 'name'::text\)\), \(\(manifest ->> 'version'::text\)\)\) WHERE \(NOT yanked\)/)]),
      );
      const names = await columns(t.db.knex, 'package_names');
      expect(Object.keys(names)).toEqual(['name', 'created_by', 'created_at']);
      expectColumn(names, 'name', 'text', false);
      const owners = await columns(t.db.knex, 'package_owners');
      expect(Object.keys(owners)).toEqual(['name', 'owner_did', 'added_by', 'added_at']);
      expectColumn(owners, 'owner_did', 'varchar(255)', false);
      expectColumn(owners, 'added_at', 'timestamp with time zone', false, /now\(\)/);
      expect(await indexDefs(t.db.knex, 'package_owners')).toEqual(expect.arrayContaining([expect.stringMatching(/UNIQUE INDEX package_owners_pkey .*\(name, owner_did\)/)]));
      expect(await foreignKeys(t.db.knex, 'package_owners')).toContain('FOREIGN KEY (name) REFERENCES package_names(name) ON DELETE CASCADE');
      const audit = await columns(t.db.knex, 'package_audit_log');
      expect(Object.keys(audit)).toEqual(['id', 'name', 'action', 'actor_did', 'owner_did', 'package_id', 'reason', 'created_at']);
      expectColumn(audit, 'id', 'bigint', false, /nextval/);
      expectColumn(audit, 'reason', 'text', true);
      expect(await indexDefs(t.db.knex, 'package_audit_log')).toEqual(
        expect.arrayContaining([expect.stringMatching(/INDEX idx_package_audit_log_name ON public\.package_audit_log USING btree \(name, id DESC\)/)]),
      );
    });

    it('rolls back to nothing and migrates again', async () => {
      const { migrations, tableName } = SERVICE_MIGRATIONS.registry;
      await runMigrations(t.db.knex, migrations, tableName, 'rollback-all');
      expect(await tableNames(t.db.knex)).toEqual(expect.not.arrayContaining(['packages', 'installations']));
      const applied = await runMigrations(t.db.knex, migrations, tableName);
      expect(applied).toEqual(migrations.map((m) => m.name));
      expect(await tableNames(t.db.knex)).toEqual(expect.arrayContaining(['packages', 'installations', 'registry_migrations']));
    });
  });

  describe('content store', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(kind, 'content-store');
    });
    afterAll(() => t.drop());

    it('creates labox_manifests as the Labox schema', async () => {
      const cols = await columns(t.db.knex, 'labox_manifests');
      expect(Object.keys(cols)).toEqual(['id', 'created_at', 'class_id', 'unpacker_name', 'tags', 'creator_did']);
      expectColumn(cols, 'id', 'uuid', false, /gen_random_uuid\(\)/);
      expectColumn(cols, 'created_at', 'timestamp with time zone', false, /now\(\)/);
      expectColumn(cols, 'class_id', 'uuid', false);
      expectColumn(cols, 'unpacker_name', 'text', false);
      expectColumn(cols, 'tags', 'jsonb', false, /'\{\}'::jsonb/);
      // Migration 003: who created it; NULL for manifests made before creators were recorded.
      expectColumn(cols, 'creator_did', 'text', true);
      expect(await indexDefs(t.db.knex, 'labox_manifests')).toEqual(
        expect.arrayContaining([expect.stringMatching(/USING gin \(tags jsonb_path_ops\)/)]),
      );
    });

    it('creates labox_contents as the Labox schema, with the enum and the unique key', async () => {
      const cols = await columns(t.db.knex, 'labox_contents');
      expect(Object.keys(cols)).toEqual([
        'id', 'created_at', 'manifest_id', 'content_key', 'content_type', 'content_encoding', 'content_size', 'content_hash',
        'content_hash_algorithm', 'serializer_config', 'serializer_name', 'serializer_type', 'storage_name', 'storage_config',
      ]);
      expectColumn(cols, 'id', 'uuid', false, /gen_random_uuid\(\)/);
      expectColumn(cols, 'manifest_id', 'uuid', false);
      expectColumn(cols, 'content_key', 'text', false);
      expectColumn(cols, 'content_encoding', 'text', true);
      expectColumn(cols, 'content_size', 'bigint', false);
      expectColumn(cols, 'content_hash', 'text', false);
      expectColumn(cols, 'serializer_config', 'jsonb', false, /'\{\}'::jsonb/);
      expectColumn(cols, 'serializer_type', 'labox_serializer_type', false);
      expectColumn(cols, 'storage_config', 'jsonb', false);
      const { rows } = await t.db.knex.raw<{ rows: { enumlabel: string }[] }>(
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'labox_serializer_type' ORDER BY e.enumsortorder",
      );
      expect(rows.map((r) => r.enumlabel)).toEqual(['value', 'stream']);
      expect(await foreignKeys(t.db.knex, 'labox_contents')).toContain('FOREIGN KEY (manifest_id) REFERENCES labox_manifests(id) ON DELETE CASCADE');
      expect(await indexDefs(t.db.knex, 'labox_contents')).toEqual(
        expect.arrayContaining([expect.stringMatching(/UNIQUE INDEX labox_contents_manifest_key ON public\.labox_contents USING btree \(manifest_id, content_key\)/)]),
      );
    });

    it('rejects a second content with the same key in one manifest', async () => {
      const [{ id }] = await t.db.knex('labox_manifests').insert({ class_id: '00000000-0000-4000-8000-000000000001', unpacker_name: 'u@v1' }).returning('id');
      const content = {
        manifest_id: id, content_key: 'k', content_type: 'text/plain', content_size: 1, content_hash: 'h', content_hash_algorithm: 'sha256',
        serializer_name: 's@v1', serializer_type: 'value', storage_name: 'griot.file@v1', storage_config: JSON.stringify({}),
      };
      await t.db.knex('labox_contents').insert(content);
      await expect(t.db.knex('labox_contents').insert(content)).rejects.toMatchObject({ code: '23505' });
      await expect(t.db.knex('labox_contents').insert({ ...content, content_key: 'x', serializer_type: 'other' })).rejects.toThrow(/enum/);
    });

    it('rolls back to nothing and migrates again', async () => {
      const { migrations, tableName } = SERVICE_MIGRATIONS['content-store'];
      await runMigrations(t.db.knex, migrations, tableName, 'rollback-all');
      expect(await tableNames(t.db.knex)).toEqual(expect.not.arrayContaining(['labox_manifests', 'labox_contents', 'content_blobs']));
      const applied = await runMigrations(t.db.knex, migrations, tableName);
      expect(applied).toEqual(migrations.map((m) => m.name));
      expect(await tableNames(t.db.knex)).toEqual(expect.arrayContaining(['labox_manifests', 'labox_contents', 'content_blobs', 'content_uploads']));
    });
  });
  describe.each(['registry', 'content-store'] as const)('used tokens and service keys of the %s (registry 007, content store 004)', (service) => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(kind, service);
    });
    afterAll(() => t.drop());

    it('creates used_tokens with its key and the expiry index, and service_keys', async () => {
      const used = await columns(t.db.knex, 'used_tokens');
      expect(Object.keys(used)).toEqual(['token_key', 'expires_at']);
      expectColumn(used, 'token_key', 'text', false);
      expectColumn(used, 'expires_at', 'timestamp with time zone', false);
      expect(await indexDefs(t.db.knex, 'used_tokens')).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/UNIQUE INDEX used_tokens_pkey .*\(token_key\)/),
          expect.stringMatching(/INDEX idx_used_tokens_expires_at ON public\.used_tokens USING btree \(expires_at\)/),
        ]),
      );
      const keys = await columns(t.db.knex, 'service_keys');
      expect(Object.keys(keys)).toEqual(['name', 'value', 'created_at']);
      expectColumn(keys, 'value', 'text', false);
      expectColumn(keys, 'created_at', 'timestamp with time zone', false, /now\(\)/);
      await t.db.knex('used_tokens').insert({ token_key: 'k', expires_at: new Date() });
      await expect(t.db.knex('used_tokens').insert({ token_key: 'k', expires_at: new Date() })).rejects.toMatchObject({ code: '23505' });
    });

    it('drops both tables on rollback and makes them again', async () => {
      const { migrations, tableName } = SERVICE_MIGRATIONS[service];
      await runMigrations(t.db.knex, migrations, tableName, 'rollback-all');
      expect(await tableNames(t.db.knex)).toEqual(expect.not.arrayContaining(['used_tokens', 'service_keys']));
      await runMigrations(t.db.knex, migrations, tableName);
      expect(await tableNames(t.db.knex)).toEqual(expect.arrayContaining(['used_tokens', 'service_keys']));
    });
  });
});
