/**
 * SQL of the `installations` table and its log lines: create, read, list,
 * claim with `FOR UPDATE SKIP LOCKED`, batched log appends, lease renewal and
 * expiry, cancellation. Every change NOTIFYs the job's id on
 * {@link JOB_EVENTS_CHANNEL} in the same statement (delivered at commit), and
 * new pending work NOTIFYs the node's DID on {@link JOB_QUEUE_CHANNEL}.
 *
 * Log lines (migration 004): each batch is one multi-row INSERT into the
 * append-only `installation_log_lines` (line_no from 0), in the same
 * statement as the UPDATE of the job's row that counts them (`log_count`),
 * renews the lease and fences the claim. Readers (GetInstallation,
 * WatchInstallation) read line ranges from that table by primary key, never
 * from `installations.logs`. The seed's `logs` array is kept complete by
 * checkpoints (`checkpointLogs`): the lines [logs_checkpointed,
 * log_count) are appended to it in one batch, with the first batch a report
 * session writes once REGISTRY_LOG_CHECKPOINT_INTERVAL has passed since its
 * last checkpoint, and always in the UPDATE that makes a job final
 * (completed, failed, cancelled) or ends its lease. So a finished job's
 * `logs` holds every line in order (checked by the tests), and a running
 * job's `logs` misses at most the lines written since its last checkpoint.
 * The array is still rewritten on each checkpoint (O(n) each), but every few
 * seconds instead of on every flush (25 ms by default).
 */
import type { Knex } from 'knex';
import { keysetAfterSql, keysetOrderSql, keysetPage, keysetTimeSql, translateSqlError, type Keyset, type KeysetCursor } from '@griot/server-kit';
import type { JobStatus } from '../domain/installation-state';

/** Channel whose payload is the id of a job that changed (status or log). */
export const JOB_EVENTS_CHANNEL = 'griot_installations';

/** Channel whose payload is the DID of a node that has a new pending job. */
export const JOB_QUEUE_CHANNEL = 'griot_installation_queue';

/**
 * Appended to every notification's payload (`<job id or node DID>|<ms>`):
 * when the statement ran, in milliseconds since the epoch, so that each
 * replica can measure how long notifications take to reach it.
 */
const NOTIFY_SENT_AT = "'|' || (extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/** A row of `installations`; `logs` only when asked for. */
export interface InstallationRecord {
  /** The job id. */
  jobId: string;
  /** The package to install. */
  packageId: string;
  /** The node's DID. */
  targetNodeId: string;
  /** The DID of the caller that created the job (the node itself, or an operator). */
  createdBy: string;
  /** Where the job is. */
  status: JobStatus;
  /** A sentence about the status. */
  statusMessage: string | null;
  /** The log lines, when read. */
  logs?: string[];
  /** How many log lines there are. */
  logCount: number;
  /** Their UTF-8 bytes. */
  logBytes: number;
  /** Package ids in install order. */
  installOrder: string[];
  /** How many times it was claimed. */
  attempts: number;
  /** When a running job's lease ends. */
  leaseExpiresAt: Date | null;
  /** When it was created. */
  createdAt: Date;
  /** When it reached a final status. */
  completedAt: Date | null;
  /** created_at in microseconds since the epoch (the keyset cursor). */
  createdAtMicros: string;
}

/** Filters of {@link InstallationsRepository.list}. */
export interface InstallationFilters {
  /** Only this status. */
  status?: JobStatus;
  /** Only this node. */
  targetNodeId?: string;
  /** Only this package. */
  packageId?: string;
  /** Only jobs this DID created or that target it (a caller who is not an operator). */
  visibleTo?: string;
}

/** The order of installation lists: (created_at, job_id), newest first; cursors hold created_at in microseconds. */
export const INSTALLATION_KEYSET: Keyset = { time: 'created_at', id: 'job_id', idType: 'uuid', order: 'desc', timeFormat: 'micros', idPattern: /^[0-9a-f-]{36}$/ };

/** Where a page starts: after this job of {@link INSTALLATION_KEYSET}. */
export type InstallationCursor = KeysetCursor;

/** What a watcher reads: the status and a slice of the log. */
export interface LogSlice {
  /** The status now. */
  status: JobStatus;
  /** The status message now. */
  statusMessage: string | null;
  /** The number of log lines now. */
  logCount: number;
  /** The lines asked for (those that exist). */
  lines: string[];
}

interface RawRow {
  job_id: string;
  package_id: string;
  target_node_id: string;
  created_by: string;
  status: JobStatus;
  status_message: string | null;
  logs?: string[] | null;
  log_count: number;
  log_bytes: string | number;
  install_order: string[] | null;
  attempts: number;
  lease_expires_at: Date | string | null;
  created_at: Date | string;
  completed_at: Date | string | null;
  created_at_us: string;
}

/** The selected columns (all but logs), optionally qualified by a table alias. */
function columns(alias?: string): string {
  const a = alias ? `${alias}.` : '';
  return `${a}job_id, ${a}package_id, ${a}target_node_id, ${a}created_by, ${a}status, ${a}status_message, ${a}log_count, ${a}log_bytes, ${a}install_order,
    ${a}attempts, ${a}lease_expires_at, ${a}created_at, ${a}completed_at,
    ${keysetTimeSql(INSTALLATION_KEYSET, alias)} AS created_at_us`;
}

const COLUMNS = columns();

/**
 * The new value of `installations.logs` at a checkpoint, in an UPDATE of
 * `installations`: the lines not yet in it, read from the side table, then
 * `extra` (the lines this same statement inserts, which its snapshot cannot
 * see). Sets nothing by itself: pair with `logs_checkpointed = log_count`
 * (plus the extra lines).
 */
function checkpointLogs(table: string, extra = "'{}'::text[]"): string {
  return `COALESCE(${table}.logs, '{}') || ARRAY(
      SELECT l.line FROM installation_log_lines l
       WHERE l.job_id = ${table}.job_id AND l.line_no >= ${table}.logs_checkpointed
       ORDER BY l.line_no) || ${extra}`;
}

/** The first lines of a job (at most `?` of them), in order, from the side table. */
const FIRST_LINES = `ARRAY(SELECT l.line FROM installation_log_lines l WHERE l.job_id = installations.job_id AND l.line_no < ?::int ORDER BY l.line_no)`;

/** The `installations` table. */
export class InstallationsRepository {
  constructor(private readonly knex: Knex) {}

  /** Creates a pending job and wakes the node's waiting agent. */
  async create(input: { packageId: string; targetNodeId: string; createdBy: string; installOrder: string[] }): Promise<InstallationRecord> {
    try {
      const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
        `WITH created AS (
           INSERT INTO installations (package_id, target_node_id, created_by, status, logs, install_order)
           VALUES (?, ?, ?, 'pending', '{}', ?::text[])
           RETURNING ${COLUMNS})
         SELECT created.*, pg_notify(?, created.target_node_id || ${NOTIFY_SENT_AT}) AS _queued FROM created`,
        [input.packageId, input.targetNodeId, input.createdBy, input.installOrder, JOB_QUEUE_CHANNEL],
      );
      return toRow(rows[0]!);
    } catch (err) {
      throw translateSqlError(err, { resourceType: 'Package', name: input.packageId });
    }
  }

  /**
   * A job, if it exists, with the first `maxLines` lines of its log when
   * `withLogs` (`logCount` tells how many there are in all).
   */
  async findById(jobId: string, withLogs = true, maxLines = 2_147_483_647): Promise<InstallationRecord | undefined> {
    const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
      `SELECT ${COLUMNS}${withLogs ? `, ${FIRST_LINES} AS logs` : ''} FROM installations WHERE job_id = ?::uuid`,
      withLogs ? [maxLines, jobId] : [jobId],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** One page of jobs without their logs, newest first. */
  async list(filters: InstallationFilters, limit: number, after?: InstallationCursor): Promise<{ rows: InstallationRecord[]; more: boolean }> {
    const where: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    if (filters.status) {
      where.push('status = ?');
      bindings.push(filters.status);
    }
    if (filters.targetNodeId) {
      where.push('target_node_id = ?');
      bindings.push(filters.targetNodeId);
    }
    if (filters.packageId) {
      where.push('package_id = ?');
      bindings.push(filters.packageId);
    }
    if (filters.visibleTo) {
      where.push('(target_node_id = ? OR created_by = ?)');
      bindings.push(filters.visibleTo, filters.visibleTo);
    }
    if (after) {
      const keyset = keysetAfterSql(INSTALLATION_KEYSET, after);
      where.push(keyset.sql);
      bindings.push(...keyset.bindings);
    }
    const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
      `SELECT ${COLUMNS} FROM installations ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY ${keysetOrderSql(INSTALLATION_KEYSET)} LIMIT ?`,
      [...bindings, limit + 1],
    );
    const page = keysetPage(rows, limit);
    return { rows: page.rows.map(toRow), more: page.more };
  }

  /**
   * Claims the node's oldest pending job: running, one more attempt, a lease
   * of `leaseMs`. Concurrent claimers skip each other's locked rows.
   */
  async claim(targetNodeId: string, leaseMs: number): Promise<InstallationRecord | undefined> {
    const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
      `WITH next AS (
         SELECT job_id FROM installations
          WHERE target_node_id = ? AND status = 'pending'
          ORDER BY created_at, job_id
          LIMIT 1
          FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE installations i
            SET status = 'running', attempts = i.attempts + 1, status_message = NULL,
                lease_expires_at = NOW() + ? * INTERVAL '1 millisecond', updated_at = NOW()
           FROM next WHERE i.job_id = next.job_id
         RETURNING ${columns('i')})
       SELECT claimed.*, pg_notify(?, claimed.job_id::text || ${NOTIFY_SENT_AT}) AS _notified FROM claimed`,
      [targetNodeId, leaseMs, JOB_EVENTS_CHANNEL],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * Appends log lines and optionally sets a status, in one statement, for the
   * running job of this claim (`attempt` fences off an agent whose lease
   * expired and whose job was claimed again); renews the lease. The lines are
   * inserted into `installation_log_lines` as `log_count`, `log_count + 1`, …
   * (the row lock of the UPDATE orders concurrent appends). With `checkpoint`,
   * and always with a final status, `logs` gets every line not yet in it,
   * these included.
   * @returns The job after the change, or undefined when it is no longer this claim's running job.
   */
  async appendReport(input: {
    jobId: string;
    attempt: number;
    lines: string[];
    status?: JobStatus;
    statusMessage?: string;
    leaseMs: number;
    checkpoint?: boolean;
    /** The most lines the job's log may hold after this append. */
    maxLines?: number;
    /** The most UTF-8 bytes the job's log may hold after this append. */
    maxBytes?: number;
  }): Promise<InstallationRecord | undefined> {
    const bytes = input.lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    const final = input.status === 'completed' || input.status === 'failed';
    const checkpoint = final || input.checkpoint === true;
    // Without a checkpoint `logs` is not assigned at all, so the UPDATE never touches the array.
    const checkpointSet = checkpoint
      ? `logs = ${checkpointLogs('installations', '?::text[]')}, logs_checkpointed = log_count + ?::int,`
      : '';
    const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
      `WITH changed AS (
         UPDATE installations
            SET ${checkpointSet}
                log_count = log_count + ?::int,
                log_bytes = log_bytes + ?::bigint,
                status = COALESCE(?, status),
                status_message = CASE WHEN ?::boolean THEN ? ELSE status_message END,
                completed_at = CASE WHEN ?::boolean THEN NOW() ELSE completed_at END,
                lease_expires_at = CASE WHEN ?::boolean THEN NULL ELSE NOW() + ? * INTERVAL '1 millisecond' END,
                updated_at = NOW()
          WHERE job_id = ?::uuid AND status = 'running' AND attempts = ?
            AND log_count + ?::int <= ?::int AND log_bytes + ?::bigint <= ?::bigint
         RETURNING ${COLUMNS}),
       appended AS (
         INSERT INTO installation_log_lines (job_id, line_no, line)
         SELECT changed.job_id, changed.log_count - ?::int + (u.ord - 1)::int, u.line
           FROM changed, unnest(?::text[]) WITH ORDINALITY AS u (line, ord))
       SELECT changed.*, pg_notify(?, changed.job_id::text || ${NOTIFY_SENT_AT}) AS _notified FROM changed`,
      [
        ...(checkpoint ? [input.lines, input.lines.length] : []),
        input.lines.length,
        bytes,
        input.status ?? null,
        input.status !== undefined,
        input.statusMessage || null,
        final,
        final,
        input.leaseMs,
        input.jobId,
        input.attempt,
        input.lines.length,
        input.maxLines ?? 2_147_483_647,
        bytes,
        input.maxBytes ?? Number.MAX_SAFE_INTEGER,
        input.lines.length,
        input.lines,
        JOB_EVENTS_CHANNEL,
      ],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Extends the lease of this claim's running job; false when it is no longer that. */
  async renewLease(jobId: string, attempt: number, leaseMs: number): Promise<boolean> {
    const { rows } = await this.knex.raw<{ rows: unknown[] }>(
      `UPDATE installations SET lease_expires_at = NOW() + ? * INTERVAL '1 millisecond', updated_at = NOW()
        WHERE job_id = ?::uuid AND status = 'running' AND attempts = ? RETURNING job_id`,
      [leaseMs, jobId, attempt],
    );
    return rows.length > 0;
  }

  /**
   * Cancels a pending or running job, checkpointing its log into `logs`.
   * @returns The cancelled job, or undefined when it was not pending or running.
   */
  async cancel(jobId: string, reason: string): Promise<InstallationRecord | undefined> {
    const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
      `WITH changed AS (
         UPDATE installations
            SET status = 'cancelled', status_message = ?, completed_at = NOW(), lease_expires_at = NULL, updated_at = NOW(),
                logs = ${checkpointLogs('installations')}, logs_checkpointed = log_count
          WHERE job_id = ?::uuid AND status IN ('pending', 'running')
         RETURNING ${COLUMNS})
       SELECT changed.*, pg_notify(?, changed.job_id::text || ${NOTIFY_SENT_AT}) AS _notified FROM changed`,
      [reason, jobId, JOB_EVENTS_CHANNEL],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * Up to `limit` running jobs whose lease has expired, the longest expired
   * first, leaving out `except` (jobs a sweep already failed on this round).
   */
  async findExpiredLeases(limit: number, except: string[] = []): Promise<string[]> {
    const { rows } = await this.knex.raw<{ rows: { job_id: string }[] }>(
      `SELECT job_id FROM installations
        WHERE status = 'running' AND lease_expires_at < NOW() AND job_id <> ALL (?::uuid[])
        ORDER BY lease_expires_at, job_id LIMIT ?`,
      [except, limit],
    );
    return rows.map((r) => r.job_id);
  }

  /**
   * Ends one expired lease: the job goes back to pending, or fails once it
   * had `maxAttempts` claims. With `checkpoint` (the normal case) its log is
   * checkpointed into `logs` in the same UPDATE; without, `logs` is left as
   * it is (the side table still holds every line): the way out for a job
   * whose checkpoint fails.
   * @returns The job changed, or undefined when its lease was no longer
   *   expired or another replica is sweeping it.
   */
  async expireLease(jobId: string, maxAttempts: number, checkpoint = true): Promise<InstallationRecord | undefined> {
    const { rows } = await this.knex.raw<{ rows: RawRow[] }>(
      `WITH expired AS (
         SELECT job_id FROM installations
          WHERE job_id = ?::uuid AND status = 'running' AND lease_expires_at < NOW()
          FOR UPDATE SKIP LOCKED),
       changed AS (
         UPDATE installations i
            SET status = CASE WHEN i.attempts >= ? THEN 'failed' ELSE 'pending' END,
                status_message = CASE WHEN i.attempts >= ?
                  THEN 'agent lease expired after ' || i.attempts || ' attempts; the job failed'
                  ELSE 'agent lease expired (attempt ' || i.attempts || ' of ' || ?::int || '); waiting to be claimed again' END,
                completed_at = CASE WHEN i.attempts >= ? THEN NOW() ELSE NULL END,
                ${checkpoint ? `logs = ${checkpointLogs('i')}, logs_checkpointed = i.log_count,` : ''}
                lease_expires_at = NULL, updated_at = NOW()
           FROM expired WHERE i.job_id = expired.job_id
         RETURNING ${columns('i')})
       SELECT changed.*, pg_notify(?, changed.job_id::text || ${NOTIFY_SENT_AT}) AS _notified,
              CASE WHEN changed.status = 'pending' THEN pg_notify(?, changed.target_node_id || ${NOTIFY_SENT_AT}) END AS _queued
         FROM changed`,
      [jobId, maxAttempts, maxAttempts, maxAttempts, maxAttempts, JOB_EVENTS_CHANNEL, JOB_QUEUE_CHANNEL],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * Ends every expired lease, job by job (see {@link expireLease}); the
   * first failure throws. The lease sweeper does the same but logs and skips
   * a job that fails.
   * @returns The jobs changed.
   */
  async expireLeases(maxAttempts: number): Promise<InstallationRecord[]> {
    const changed: InstallationRecord[] = [];
    for (const jobId of await this.findExpiredLeases(1000)) {
      const row = await this.expireLease(jobId, maxAttempts);
      if (row) changed.push(row);
    }
    return changed;
  }

  /**
   * The status and the log lines [from, to) of a job (fewer when the log is
   * shorter), read by primary key from the side table in the same snapshot as
   * the status and count, or undefined when the job does not exist.
   */
  async readLogSlice(jobId: string, from: number, to: number): Promise<LogSlice | undefined> {
    const { rows } = await this.knex.raw<{ rows: { status: JobStatus; status_message: string | null; log_count: number; lines: string[] | null }[] }>(
      `SELECT status, status_message, log_count,
              ARRAY(SELECT l.line FROM installation_log_lines l
                     WHERE l.job_id = installations.job_id AND l.line_no >= ?::int AND l.line_no < ?::int
                     ORDER BY l.line_no) AS lines
         FROM installations WHERE job_id = ?::uuid`,
      [from, to, jobId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { status: row.status, statusMessage: row.status_message, logCount: row.log_count, lines: row.lines ?? [] };
  }
}

function toRow(raw: RawRow): InstallationRecord {
  return {
    jobId: raw.job_id,
    packageId: raw.package_id,
    targetNodeId: raw.target_node_id,
    createdBy: raw.created_by,
    status: raw.status,
    statusMessage: raw.status_message,
    logs: raw.logs === undefined ? undefined : (raw.logs ?? []),
    logCount: raw.log_count,
    logBytes: Number(raw.log_bytes),
    installOrder: raw.install_order ?? [],
    attempts: raw.attempts,
    leaseExpiresAt: date(raw.lease_expires_at),
    createdAt: date(raw.created_at)!,
    completedAt: date(raw.completed_at),
    createdAtMicros: raw.created_at_us,
  };
}

function date(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}
