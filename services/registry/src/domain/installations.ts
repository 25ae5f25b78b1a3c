/**
 * Installation jobs: the rules of creating, reading, listing, claiming,
 * reporting on and cancelling them. Knows nothing of gRPC: callers pass the
 * authenticated DID and plain values, and get rows or typed errors.
 *
 * Order of checks, in every method: the caller was authenticated before
 * (UNAUTHENTICATED first), then the request's values (INVALID_ARGUMENT),
 * then the caller's permission, then existence and state. A permission that
 * depends on the job (its node, its creator) can only be checked once the job
 * is found, so an unknown job id is NOT_FOUND to any authenticated caller:
 * job ids are random UUIDs, and answering NOT_FOUND for one tells a caller
 * nothing about any job it could not already name. A job that exists but is
 * not the caller's is PERMISSION_DENIED.
 */
import {
  failedPrecondition,
  invalidArgument,
  invalidField,
  notFound,
  readKeysetCursor,
  requireDid,
  requireMaxLength,
  requireNoNul,
  requireSha256,
  requireUuid,
  resolvePageSize,
  shorten,
  type PageTokens,
} from '@griot/server-kit';
import type { InstallationEvents } from '../events/installation-events';
import { Wakeup } from '../events/wakeup';
import { INSTALLATION_KEYSET, type InstallationCursor, type InstallationFilters, type InstallationRecord, type InstallationsRepository } from '../repository/installations-repository';
import type { PackageRecord, PackagesRepository } from '../repository/packages-repository';
import { assertTransition, type JobStatus } from './installation-state';
import { requireJobNode, type JobAccess } from './job-access';
import { cachedPackageBytes, installOrder } from './packages';
import { ReportSession, type ReportSessionOptions } from './report-session';

/** Page sizes of ListInstallations. */
export const INSTALLATION_PAGE_SIZE = { defaultSize: 50, maxSize: 500 };

/** Longest cancellation reason, in characters. */
export const MAX_CANCEL_REASON = 1024;

/** What the installation rules need. */
export interface InstallationDeps {
  /** The installations table. */
  installations: InstallationsRepository;
  /** The packages table. */
  packages: PackagesRepository;
  /** Who may do what (REGISTRY_OPERATORS). */
  access: JobAccess;
  /** The process's notifications (claim wake-ups). */
  events: InstallationEvents;
  /** Longest claim wait, in milliseconds. */
  maxClaimWaitMs: number;
  /** Report batching and leases. */
  report: ReportSessionOptions;
  /** The deployment's page tokens. */
  pageTokens: PageTokens;
  /** Most log lines a GetInstallation answers (REGISTRY_MAX_LOG_LINES_PER_GET); default all. */
  maxLogLinesPerGet?: number;
  /**
   * Most bytes of packages a ClaimInstallation answers with the job
   * (REGISTRY_MAX_CLAIM_PACKAGE_BYTES, counted like the package cache);
   * past it the answer has the job's package ids only. Default no limit.
   */
  maxClaimPackageBytes?: number;
}

/** The filters and page of a listing, as the caller sent them. */
export interface ListInstallationsInput {
  /** Only this status. */
  status?: JobStatus;
  /** Only this node (a did:key), or empty. */
  targetNodeId: string;
  /** Only this package, or empty. */
  packageId: string;
  /** Page size; 0 = default. */
  pageSize: number;
  /** The token of the next page, or empty. */
  pageToken: string;
}

/** One message of a report stream. */
export interface ReportMessage {
  /** The job id (required in the first message; empty or the same later). */
  jobId: string;
  /** Log lines to append. */
  logLines: string[];
  /** The status to set, read when the message is handled (an invalid one throws then). */
  status: () => JobStatus | undefined;
  /** The status message. */
  statusMessage: string;
}

/** A claimed job and its packages in install order. */
export interface ClaimedInstallation {
  /**
   * The job, now running; `job.installOrder` always names every package,
   * dependencies first.
   */
  job: InstallationRecord;
  /**
   * Its packages, dependencies first; empty when they would pass
   * REGISTRY_MAX_CLAIM_PACKAGE_BYTES (the agent then reads each with GetPackage).
   */
  installOrder: PackageRecord[];
}

/** How long a claim may wait, and what ends the wait early. */
export interface ClaimWait {
  /** Milliseconds the caller is willing to wait; 0 answers at once. */
  waitMillis: number;
  /** The caller's deadline, if any: the claim answers (empty) a little before it. */
  deadline?: Date;
  /** Aborted when the caller leaves or the server shuts down. */
  signals: AbortSignal[];
}

/** The installation job rules. */
export class Installations {
  /** @param deps - Repositories, permissions, notifications and limits. */
  constructor(private readonly deps: InstallationDeps) {}

  /**
   * Creates a pending job installing a package and its dependencies on a
   * node. A node creates jobs for itself; an operator for any node.
   * @throws INVALID_ARGUMENT, PERMISSION_DENIED NOT_AN_OPERATOR, NOT_FOUND
   *   PACKAGE_NOT_FOUND, FAILED_PRECONDITION (unresolvable dependencies).
   */
  async create(caller: string, input: { packageId: string; targetNodeId: string }, signal?: AbortSignal): Promise<InstallationRecord> {
    const packageId = requireSha256('package_id', input.packageId);
    const target = requireDid('target_node_id', input.targetNodeId, "the node's did:key");
    this.deps.access.requireCreate(caller, target);
    const { packages } = this.deps;
    const root = await packages.findById(packageId);
    if (!root) throw notFound('Package', packageId, `package ${packageId} is not registered`);
    const order = await installOrder(packages, root);
    // A caller that was already told DEADLINE_EXCEEDED or CANCELLED must not find a job it would create again.
    signal?.throwIfAborted();
    const row = await this.deps.installations.create({ packageId, targetNodeId: target, createdBy: caller, installOrder: order.map((p) => p.packageId) });
    return { ...row, logs: [] };
  }

  /**
   * A job with its log, for its node, its creator or an operator: the first
   * REGISTRY_MAX_LOG_LINES_PER_GET lines of it, `logCount` telling how many
   * there are (WatchInstallation from that line gives the rest).
   * @throws INVALID_ARGUMENT, NOT_FOUND INSTALLATION_NOT_FOUND, PERMISSION_DENIED NOT_JOB_READER.
   */
  async get(caller: string, jobIdValue: string): Promise<InstallationRecord> {
    const jobId = requireUuid('job_id', jobIdValue);
    const row = await this.find(jobId, true, this.deps.maxLogLinesPerGet);
    this.deps.access.requireRead(caller, row);
    return row;
  }

  /**
   * Checks that the caller may watch a job (the same rule as {@link get}).
   * @returns The normalized job id.
   */
  async authorizeWatch(caller: string, jobIdValue: string, fromLine: number): Promise<string> {
    const jobId = requireUuid('job_id', jobIdValue);
    if (!Number.isSafeInteger(fromLine) || fromLine < 0) {
      throw invalidField('from_line', 'INVALID_FROM_LINE', `must be 0 or the number of lines already received, not ${fromLine}`);
    }
    this.deps.access.requireRead(caller, await this.find(jobId, false));
    return jobId;
  }

  /**
   * One page of jobs, newest first, without their logs. An operator sees
   * every job; anyone else the jobs it created or that target it (the
   * listing is filtered, not refused).
   */
  async list(caller: string, input: ListInstallationsInput): Promise<{ rows: InstallationRecord[]; nextPageToken: string }> {
    const pageSize = resolvePageSize(input.pageSize, INSTALLATION_PAGE_SIZE);
    const filters: InstallationFilters = {
      status: input.status,
      targetNodeId: input.targetNodeId ? requireDid('target_node_id', input.targetNodeId, "the node's did:key") : undefined,
      packageId: input.packageId ? requireSha256('package_id', input.packageId) : undefined,
      visibleTo: this.deps.access.listScope(caller),
    };
    // The page token is bound to the query, the caller's scope included.
    const query = { kind: 'installations', ...filters };
    const after = readKeysetCursor(this.deps.pageTokens.decode<unknown>(input.pageToken, query), INSTALLATION_KEYSET);
    const { rows, more } = await this.deps.installations.list(filters, pageSize, after);
    const last = rows[rows.length - 1];
    return {
      rows,
      nextPageToken: more && last ? this.deps.pageTokens.encode(query, { t: last.createdAtMicros, id: last.jobId } satisfies InstallationCursor) : '',
    };
  }

  /**
   * Claims the caller's oldest pending job (the caller is the node), waiting
   * up to `waitMillis` (at most REGISTRY_MAX_CLAIM_WAIT) for one.
   * @returns The job and its packages, or undefined when none came in time.
   */
  async claim(caller: string, wait: ClaimWait, log?: (job: InstallationRecord) => void): Promise<ClaimedInstallation | undefined> {
    if (!Number.isInteger(wait.waitMillis) || wait.waitMillis < 0) {
      throw invalidField('wait_millis', 'INVALID_WAIT', `must be 0 (answer at once) or a positive number of milliseconds, not ${wait.waitMillis}`);
    }
    let until = Date.now() + Math.min(wait.waitMillis, this.deps.maxClaimWaitMs);
    // Answer (empty) a little before the caller's deadline rather than let it expire.
    if (wait.deadline) until = Math.min(until, wait.deadline.getTime() - 50);
    const wakeup = new Wakeup();
    const unsubscribe = this.deps.events.onQueue(caller, () => wakeup.wake());
    try {
      for (;;) {
        const row = await this.deps.installations.claim(caller, this.deps.report.leaseMs);
        if (row) {
          log?.(row);
          const found = await this.deps.packages.findByIds(row.installOrder);
          const byId = new Map(found.map((p) => [p.packageId, p]));
          const packages = row.installOrder.flatMap((id) => byId.get(id) ?? []);
          const bytes = packages.reduce((sum, p) => sum + cachedPackageBytes(p), 0);
          // An answer too large for a message would leave the job running with an agent that never saw it.
          const fits = bytes <= (this.deps.maxClaimPackageBytes ?? Infinity);
          return { job: { ...row, logs: [] }, installOrder: fits ? packages : [] };
        }
        const remaining = until - Date.now();
        if (remaining <= 0) return undefined;
        await wakeup.wait(remaining, wait.signals);
        if (wait.signals.some((s) => s.aborted)) return undefined;
      }
    } finally {
      unsubscribe();
    }
  }

  /**
   * Takes a report stream: the first message names the job, which only its
   * node reports on, and only once claimed (running); later messages may
   * repeat the job id or leave it empty. Lines are batched and written by a
   * {@link ReportSession}.
   * @returns The job after the last message.
   * @throws INVALID_ARGUMENT (EMPTY_REPORT, JOB_ID_CHANGED, ...), NOT_FOUND,
   *   PERMISSION_DENIED NOT_JOB_NODE, FAILED_PRECONDITION JOB_NOT_CLAIMED / INVALID_TRANSITION.
   */
  async report(caller: string, messages: AsyncIterable<ReportMessage>): Promise<InstallationRecord> {
    let session: ReportSession | undefined;
    try {
      for await (const message of messages) {
        if (!session) {
          session = await this.openReport(caller, message.jobId);
        } else if (message.jobId !== '' && message.jobId.toLowerCase() !== session.jobId) {
          throw invalidField('job_id', 'JOB_ID_CHANGED', `is ${shorten(message.jobId)} but this stream reports on job ${session.jobId}; use one stream per job`);
        }
        await session.accept(message.logLines, message.status(), requireNoNul('status_message', message.statusMessage));
      }
      if (!session) throw invalidArgument('EMPTY_REPORT', 'the report stream had no message; the first message must name job_id', [{ field: 'job_id', description: 'is required in the first message' }]);
      return await session.close();
    } finally {
      session?.dispose();
    }
  }

  private async openReport(caller: string, jobIdValue: string): Promise<ReportSession> {
    const jobId = requireUuid('job_id', jobIdValue);
    const row = await this.find(jobId, false);
    requireJobNode(caller, row.targetNodeId, `report on job ${jobId}`);
    if (row.status === 'pending') {
      throw failedPrecondition('JOB_NOT_CLAIMED', `job ${jobId} is pending; claim it with ClaimInstallation before reporting`, { jobId });
    }
    if (row.status !== 'running') assertTransition(jobId, row.status, 'running');
    return new ReportSession(this.deps.installations, jobId, row.attempts, this.deps.report);
  }

  /**
   * Cancels a pending or running job, by its node or an operator.
   * @throws INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED NOT_AN_OPERATOR, FAILED_PRECONDITION INVALID_TRANSITION.
   */
  async cancel(caller: string, jobIdValue: string, reason: string): Promise<InstallationRecord> {
    const jobId = requireUuid('job_id', jobIdValue);
    requireNoNul('reason', requireMaxLength('reason', reason, MAX_CANCEL_REASON));
    const row = await this.find(jobId, false);
    this.deps.access.requireCancel(caller, row);
    const cancelled = await this.deps.installations.cancel(jobId, reason || `cancelled by ${caller}`);
    if (!cancelled) {
      const now = await this.find(jobId, false);
      assertTransition(jobId, now.status, 'cancelled');
      throw failedPrecondition('INVALID_TRANSITION', `job ${jobId} is ${now.status}; it cannot be cancelled`);
    }
    return cancelled;
  }

  private async find(jobId: string, withLogs: boolean, maxLines?: number): Promise<InstallationRecord> {
    const row = await this.deps.installations.findById(jobId, withLogs, maxLines);
    if (!row) throw notFound('Installation', jobId, `installation job ${jobId} was not found`);
    return row;
  }
}

