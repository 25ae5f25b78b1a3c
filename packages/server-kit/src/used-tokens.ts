/**
 * Caller tokens used once: each service remembers the tokens it accepted in
 * its own database (`used_tokens`, made by each service's `used_tokens`
 * migration), so a second use of a token is refused on every replica that
 * shares the database. A row is kept until its token could no longer be
 * accepted anyway, then a periodic sweep deletes it in bounded batches.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';

/** The table of accepted tokens, the same in both services. */
export const USED_TOKENS_TABLE = 'used_tokens';

/** How often a service deletes the rows of expired tokens. */
export const USED_TOKENS_SWEEP_INTERVAL_MS = 60_000;

/** Rows deleted per statement by a sweep: a sweep never holds a long lock. */
const SWEEP_BATCH = 5000;

/** Remembers which tokens were used. */
export interface UsedTokenStore {
  /**
   * Records the first use of a token.
   * @param issuer - The token's `iss`.
   * @param jti - The token's `jti`.
   * @param keepUntil - When the token can no longer be accepted (the row may go after this).
   * @returns True when the token was not used before; false for a replay.
   */
  firstUse(issuer: string, jti: string, keepUntil: Date): Promise<boolean>;
}

/**
 * The key of a token in `used_tokens`: a digest of its issuer and `jti`.
 * A `jti` is chosen by its issuer, so one caller's `jti` never blocks
 * another's; the digest keeps the key short whatever the `jti`'s length.
 */
export function usedTokenKey(issuer: string, jti: string): string {
  return createHash('sha256').update(issuer).update('\n').update(jti).digest('base64url');
}

/** `used_tokens` of one service's database. */
export class UsedTokens implements UsedTokenStore {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  /**
   * @param knex - The service's database.
   * @param now - The clock sweeps compare expiries with.
   */
  constructor(
    private readonly knex: Knex,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** {@inheritDoc UsedTokenStore.firstUse} */
  async firstUse(issuer: string, jti: string, keepUntil: Date): Promise<boolean> {
    // One statement decides on every replica at once: the primary key admits one row per token.
    const inserted = await this.knex(USED_TOKENS_TABLE)
      .insert({ token_key: usedTokenKey(issuer, jti), expires_at: keepUntil })
      .onConflict('token_key')
      .ignore()
      .returning('token_key');
    return inserted.length === 1;
  }

  /**
   * Deletes the rows of tokens that expired before now, in batches.
   * @returns The number of rows deleted.
   */
  async sweep(): Promise<number> {
    const cutoff = this.now();
    let total = 0;
    for (;;) {
      // RETURNING: knex-pglite answers a DELETE's count as a raw result, an array of rows has one length everywhere.
      const deleted = (
        await this.knex(USED_TOKENS_TABLE)
          .whereIn('token_key', (q) => q.select('token_key').from(USED_TOKENS_TABLE).where('expires_at', '<', cutoff).limit(SWEEP_BATCH))
          .delete()
          .returning('token_key')
      ).length;
      total += deleted;
      if (deleted < SWEEP_BATCH) return total;
    }
  }

  /**
   * Sweeps every `intervalMs` until {@link stopSweeping}; a failed sweep is
   * logged and the next one tries again.
   */
  startSweeping(intervalMs: number, logger: Logger): void {
    this.timer = setInterval(() => {
      this.running = this.sweep().then(
        (n) => {
          if (n > 0) logger.debug({ deleted: n }, 'used tokens swept');
        },
        (err: unknown) => logger.warn({ err }, 'used tokens sweep failed; retrying at the next interval'),
      );
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the periodic sweep and waits for a sweep in progress. */
  async stopSweeping(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
