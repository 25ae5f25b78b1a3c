/**
 * The page-token key of a deployment: the configured one, or else a random
 * key kept in the service's own database (`service_keys`, made by each
 * service's `used_tokens` migration), which every replica of the service
 * shares. The first replica to start stores it; the others read the same row.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { PAGE_TOKEN_KEY_MIN_BYTES, PageTokens } from './pagination';

/** The table of a service's generated keys, one row per key name. */
export const SERVICE_KEYS_TABLE = 'service_keys';

/** The row name of the page-token key. */
const PAGE_TOKEN_KEY_NAME = 'page_token';

/**
 * The page tokens of a service.
 * @param knex - The service's database (migrated).
 * @param configured - The key from the configuration, when one is set.
 * @returns Page tokens signed with the configured key, or with the database's
 *   key (made on first use, with ON CONFLICT DO NOTHING so that replicas
 *   starting at once agree).
 */
export async function loadPageTokens(knex: Knex, configured?: Uint8Array): Promise<PageTokens> {
  if (configured !== undefined) return new PageTokens(configured);
  await knex(SERVICE_KEYS_TABLE)
    .insert({ name: PAGE_TOKEN_KEY_NAME, value: randomBytes(PAGE_TOKEN_KEY_MIN_BYTES).toString('base64url') })
    .onConflict('name')
    .ignore();
  const row = (await knex(SERVICE_KEYS_TABLE).where({ name: PAGE_TOKEN_KEY_NAME }).first('value')) as { value: string } | undefined;
  if (!row) throw new Error(`${SERVICE_KEYS_TABLE} has no ${PAGE_TOKEN_KEY_NAME} row right after it was inserted`);
  return new PageTokens(Buffer.from(row.value, 'base64url'));
}
