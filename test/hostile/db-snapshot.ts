/**
 * What "nothing was written" means for the hostile suite: the row count and a
 * digest of the rows of every table of a service's PostgreSQL database,
 * compared before and after each case.
 */
import pg from 'pg';

/** Table name → `count:md5` of its rows. */
export type Snapshot = Record<string, string>;

/** Reads snapshots of one database through one connection. */
export class DatabaseSnapshots {
  private constructor(private readonly client: pg.Client) {}

  /** Connects to the database at `url`. */
  static async open(url: string): Promise<DatabaseSnapshots> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new DatabaseSnapshots(client);
  }

  /**
   * Every table of the public schema but `used_tokens`: its row count and the
   * digest of its rows in a stable order. Every authenticated call records
   * its token in `used_tokens`, by design (a token is accepted once).
   */
  async take(): Promise<Snapshot> {
    const tables = await this.client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    const out: Snapshot = {};
    for (const { table_name: name } of tables.rows) {
      if (name === 'used_tokens') continue;
      const quoted = `"${name.replace(/"/g, '""')}"`;
      const r = await this.client.query<{ n: string; digest: string }>(
        `SELECT count(*)::text AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ${quoted} t`,
      );
      out[name] = `${r.rows[0]!.n}:${r.rows[0]!.digest}`;
    }
    return out;
  }

  /** The row counts only, for messages. */
  static counts(s: Snapshot): Record<string, number> {
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number(v.split(':')[0])]));
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.client.end();
  }
}
