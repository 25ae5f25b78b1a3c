/**
 * The tables server-kit's shared mechanisms keep in each service's own
 * database: `used_tokens` (caller tokens accepted once, `UsedTokens`) and
 * `service_keys` (keys a service makes for itself, such as the page-token
 * key). Each service's migration that creates them calls these, so both
 * services have the same schema for the same code.
 *
 * Applied migrations must not change: a later change to these tables is a
 * new migration in each service, never an edit here.
 */
import type { Knex } from 'knex';

/** Creates `used_tokens` (with its index on `expires_at`, for the sweep) and `service_keys`. */
export async function createServerKitTables(knex: Knex): Promise<void> {
  await knex.raw('CREATE TABLE used_tokens (token_key TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL)');
  await knex.raw('CREATE INDEX idx_used_tokens_expires_at ON used_tokens (expires_at)');
  await knex.raw('CREATE TABLE service_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW())');
}

/** Drops both tables. */
export async function dropServerKitTables(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS service_keys');
  await knex.raw('DROP TABLE IF EXISTS used_tokens');
}
