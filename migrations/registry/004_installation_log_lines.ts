/**
 * Installation log lines in an append-only side table.
 *
 * Appending to the seed's `installations.logs TEXT[]` rewrites the whole
 * array (detoast, recompress, WAL) on every batch, so a job's log costs
 * O(n²) to write, and reading a slice `logs[a:b]` detoasts all of it: at 50k
 * lines one 250-line append took ~45 ms. Lines now go to
 * `installation_log_lines`, one row per line, one multi-row INSERT per batch;
 * readers read ranges by primary key.
 *
 * `installations.logs` keeps the seed's meaning ("an array of log messages
 * captured during the installation process"): the registry copies the lines
 * not yet in it from the side table in batches ("checkpoints"), every
 * REGISTRY_LOG_CHECKPOINT_INTERVAL while the job runs, and always in the same
 * UPDATE that sets a final status (completed, failed, cancelled) or ends a
 * lease; so a finished job's `logs` holds every line, in order.
 * `logs_checkpointed` counts the leading lines of the log that `logs` holds
 * (`logs` = lines [0, logs_checkpointed)).
 *
 * Each checkpoint still rewrites the whole array (O(n)), with the row locked,
 * so the batch written with it waits: at 25k lines that is 25-50 ms with the
 * default pglz compression and ~9 ms with lz4, so where the server supports
 * lz4 (PostgreSQL 14+ built with it; not PGlite) `logs` is compressed with
 * lz4. That changes only how new values are stored, not the column.
 *
 * Up copies the lines already in `logs` into the side table; down copies
 * every line not yet checkpointed back into `logs` before dropping them.
 */
import type { Knex } from 'knex';

/** Creates `installation_log_lines` and `installations.logs_checkpointed`, filled from `logs`. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE installation_log_lines (
      job_id UUID NOT NULL REFERENCES installations (job_id) ON DELETE CASCADE,
      line_no INTEGER NOT NULL,
      line TEXT NOT NULL,
      PRIMARY KEY (job_id, line_no)
    )`);
  await knex.raw('ALTER TABLE installations ADD COLUMN logs_checkpointed INTEGER NOT NULL DEFAULT 0');
  await knex.raw(`
    INSERT INTO installation_log_lines (job_id, line_no, line)
    SELECT i.job_id, (l.ord - 1)::int, COALESCE(l.line, '')
      FROM installations i, unnest(i.logs) WITH ORDINALITY AS l (line, ord)`);
  await knex.raw('UPDATE installations SET logs_checkpointed = COALESCE(cardinality(logs), 0), log_count = COALESCE(cardinality(logs), 0)');
  if (await supportsLz4(knex)) await knex.raw('ALTER TABLE installations ALTER COLUMN logs SET COMPRESSION lz4');
}

async function supportsLz4(knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: { lz4: boolean }[] }>(
    "SELECT 'lz4' = ANY (enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'",
  );
  return rows[0]?.lz4 === true;
}

/** Checkpoints every remaining line into `logs`, then drops the side table and the counter. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE installations i
       SET logs = COALESCE(i.logs, '{}') || ARRAY(
             SELECT l.line FROM installation_log_lines l
              WHERE l.job_id = i.job_id AND l.line_no >= i.logs_checkpointed ORDER BY l.line_no)
     WHERE i.log_count > i.logs_checkpointed`);
  if (await supportsLz4(knex)) await knex.raw('ALTER TABLE installations ALTER COLUMN logs SET COMPRESSION DEFAULT');
  await knex.raw('ALTER TABLE installations DROP COLUMN logs_checkpointed');
  await knex.raw('DROP TABLE installation_log_lines');
}
