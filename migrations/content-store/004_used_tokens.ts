/**
 * Caller tokens used once, and the key of page tokens.
 *
 * `used_tokens` holds one row per caller token the content store accepted
 * (`token_key`, a digest of the token's issuer and `jti`), until
 * `expires_at`, after which the token would be refused anyway; the primary
 * key makes a second use fail on every replica at once. A sweep deletes
 * expired rows (the index on `expires_at`).
 *
 * `service_keys` holds keys the service makes for itself: the `page_token`
 * row is the HMAC key of page tokens when CONTENT_PAGE_TOKEN_KEY is unset,
 * made by the first replica that starts.
 */
import type { Knex } from 'knex';
import { createServerKitTables, dropServerKitTables } from '../server-kit-tables';

/** Creates `used_tokens` and `service_keys`. */
export async function up(knex: Knex): Promise<void> {
  await createServerKitTables(knex);
}

/** Drops both tables. */
export async function down(knex: Knex): Promise<void> {
  await dropServerKitTables(knex);
}
