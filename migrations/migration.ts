/**
 * The shape of one migration, shared by both services' migration lists.
 */
import type { Knex } from 'knex';

/** One schema change with its inverse. */
export interface Migration {
  /** Unique, ordered name, recorded in the service's migrations table. */
  name: string;
  /** Applies the change. */
  up(knex: Knex): Promise<void>;
  /** Reverts the change. */
  down(knex: Knex): Promise<void>;
}
