/**
 * `installations.log_bytes`: the UTF-8 bytes of a job's log lines, counted
 * with `log_count` by every append, so that the per-job limits
 * (REGISTRY_MAX_LOG_LINES_PER_JOB, REGISTRY_MAX_LOG_BYTES_PER_JOB) are checked
 * in the same UPDATE that appends, without reading the lines. Up fills it
 * from `installation_log_lines`; down drops it.
 */
import type { Knex } from 'knex';

/** Adds and fills `log_bytes`. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE installations ADD COLUMN log_bytes BIGINT NOT NULL DEFAULT 0');
  await knex.raw(`
    UPDATE installations i SET log_bytes = s.bytes
      FROM (SELECT job_id, SUM(octet_length(line))::bigint AS bytes FROM installation_log_lines GROUP BY job_id) s
     WHERE s.job_id = i.job_id`);
}

/** Drops `log_bytes`. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE installations DROP COLUMN log_bytes');
}
