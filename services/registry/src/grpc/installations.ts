/**
 * RegistryService installation methods: create, get, list, claim, report,
 * cancel and watch. Node calls (create, claim, report, cancel) authenticate
 * the caller first, then check the request, then permission, then existence.
 */
import { setMaxListeners } from 'node:events';
import { registry } from '@griot/proto';
import {
  decodePageToken,
  encodePageToken,
  failedPrecondition,
  invalidArgument,
  invalidField,
  notFound,
  resolvePageSize,
  type ServiceHandlers,
} from '@griot/server-kit';
import { parseDid, DidError } from '@griot/did';
import { requireSameNode, type NodeAuthenticator } from '../auth/node-auth';
import { resolveInstallOrder } from '../domain/dependency-resolution';
import { requireJobId, requireNoNul, requirePackageId, shorten } from '../domain/identifiers';
import { assertTransition } from '../domain/installation-state';
import type { JobFeeds } from '../events/job-feeds';
import type { InstallationEvents } from '../events/installation-events';
import { Wakeup } from '../events/wakeup';
import { ReportSession, type ReportSessionOptions } from '../jobs/report-session';
import type { InstallationCursor, InstallationFilters, InstallationsRepository } from '../repository/installations-repository';
import type { PackagesRepository } from '../repository/packages-repository';
import { installationToProto, packageToProto, statusFromProto, statusToProto } from './convert';
import { resolvable } from './packages';

type Handlers = ServiceHandlers<typeof registry.RegistryServiceService>;

/** What the installation methods need. */
export interface InstallationHandlerDeps {
  /** The installations table. */
  installations: InstallationsRepository;
  /** The packages table. */
  packages: PackagesRepository;
  /** Verifies node tokens. */
  authenticate: NodeAuthenticator;
  /** The process's notifications. */
  events: InstallationEvents;
  /** Shared watch feeds. */
  feeds: JobFeeds;
  /** Longest claim wait, in milliseconds. */
  maxClaimWaitMs: number;
  /** Report batching and leases. */
  report: ReportSessionOptions;
}

/** Page sizes of ListInstallations. */
export const INSTALLATION_PAGE_SIZE = { defaultSize: 50, maxSize: 500 };

const MAX_REASON = 1024;

/** The installation methods. */
export function installationHandlers(deps: InstallationHandlerDeps): Handlers {
  const { installations, packages, authenticate } = deps;
  // Watchers at the same place share one event, hence one message (encoded once, see watchDefinition).
  const watchMessages = new WeakMap<object, registry.WatchInstallationResponse>();

  const findJob = async (jobId: string, withLogs: boolean) => {
    const row = await installations.findById(jobId, withLogs);
    if (!row) throw notFound('Installation', jobId, `installation job ${jobId} was not found`);
    return row;
  };

  return {
    async createInstallation(request, ctx) {
      const caller = authenticate(ctx.metadata);
      const packageId = requirePackageId(request.packageId);
      const target = requireDid(request.targetNodeId, 'target_node_id');
      requireSameNode(caller, target, 'create installation jobs for another node');
      const root = await packages.findById(packageId);
      if (!root) throw notFound('Package', packageId, `package ${packageId} is not registered`);
      const order = await resolveInstallOrder(resolvable(root), async (name) => (await packages.findByName(name)).map(resolvable));
      // A caller that was already told DEADLINE_EXCEEDED or CANCELLED must not find a job it would create again.
      ctx.signal.throwIfAborted();
      const row = await installations.create({ packageId, targetNodeId: target, installOrder: order.map((p) => p.packageId) });
      return { installation: installationToProto({ ...row, logs: [] }) };
    },

    async getInstallation(request) {
      const jobId = requireJobId(request.jobId);
      return { installation: installationToProto(await findJob(jobId, true)) };
    },

    async listInstallations(request) {
      const pageSize = resolvePageSize(request.pageSize, INSTALLATION_PAGE_SIZE);
      const filters: InstallationFilters = {
        status: statusFromProto(request.status, 'status'),
        targetNodeId: request.targetNodeId ? requireDid(request.targetNodeId, 'target_node_id') : undefined,
        packageId: request.packageId ? requirePackageId(request.packageId) : undefined,
      };
      const query = { kind: 'installations', ...filters };
      const after = readCursor(decodePageToken<unknown>(request.pageToken, query));
      const { rows, more } = await installations.list(filters, pageSize, after);
      const last = rows[rows.length - 1];
      return {
        installations: rows.map((r) => installationToProto(r)),
        nextPageToken: more && last ? encodePageToken(query, { t: last.createdAtMicros, id: last.jobId } satisfies InstallationCursor) : '',
      };
    },

    async claimInstallation(request, ctx) {
      const caller = authenticate(ctx.metadata);
      if (!Number.isInteger(request.waitMillis) || request.waitMillis < 0) {
        throw invalidField('wait_millis', 'INVALID_WAIT', `must be 0 (answer at once) or a positive number of milliseconds, not ${request.waitMillis}`);
      }
      let until = Date.now() + Math.min(request.waitMillis, deps.maxClaimWaitMs);
      // Answer (empty) a little before the caller's deadline rather than let it expire.
      if (ctx.deadline) until = Math.min(until, ctx.deadline.getTime() - 50);
      const wakeup = new Wakeup();
      const unsubscribe = deps.events.onQueue(caller, () => wakeup.wake());
      try {
        for (;;) {
          const row = await installations.claim(caller, deps.report.leaseMs);
          if (row) {
            const found = await packages.findByIds(row.installOrder);
            const byId = new Map(found.map((p) => [p.packageId, p]));
            ctx.logger.info({ jobId: row.jobId, attempt: row.attempts }, 'installation claimed');
            return {
              installation: installationToProto({ ...row, logs: [] }),
              installOrder: row.installOrder.flatMap((id) => {
                const p = byId.get(id);
                return p ? [packageToProto(p)] : [];
              }),
            };
          }
          const remaining = until - Date.now();
          if (remaining <= 0) return { installation: undefined, installOrder: [] };
          await wakeup.wait(remaining, [ctx.signal, ctx.shutdownSignal]);
          if (ctx.signal.aborted || ctx.shutdownSignal.aborted) return { installation: undefined, installOrder: [] };
        }
      } finally {
        unsubscribe();
      }
    },

    async reportInstallation(requests, ctx) {
      const caller = authenticate(ctx.metadata);
      let session: ReportSession | undefined;
      try {
        for await (const message of requests) {
          if (!session) {
            const jobId = requireJobId(message.jobId);
            const row = await findJob(jobId, false);
            requireSameNode(caller, row.targetNodeId, `report on job ${jobId}`);
            if (row.status === 'pending') {
              throw failedPrecondition('JOB_NOT_CLAIMED', `job ${jobId} is pending; claim it with ClaimInstallation before reporting`, { jobId });
            }
            if (row.status !== 'running') assertTransition(jobId, row.status, 'running');
            session = new ReportSession(installations, jobId, row.attempts, deps.report);
          } else if (message.jobId !== '' && message.jobId.toLowerCase() !== session.jobId) {
            throw invalidField('job_id', 'JOB_ID_CHANGED', `is ${shorten(message.jobId)} but this stream reports on job ${session.jobId}; use one stream per job`);
          }
          await session.accept(message.logLines, statusFromProto(message.status, 'status'), requireNoNul(message.statusMessage, 'status_message'));
        }
        if (!session) throw invalidArgument('EMPTY_REPORT', 'the report stream had no message; the first message must name job_id', [{ field: 'job_id', description: 'is required in the first message' }]);
        return { installation: installationToProto(await session.close()) };
      } finally {
        session?.dispose();
      }
    },

    async cancelInstallation(request, ctx) {
      const caller = authenticate(ctx.metadata);
      const jobId = requireJobId(request.jobId);
      if (request.reason.length > MAX_REASON) throw invalidField('reason', 'REASON_TOO_LONG', `is ${request.reason.length} characters long, at most ${MAX_REASON} allowed`);
      requireNoNul(request.reason, 'reason');
      const row = await findJob(jobId, false);
      requireSameNode(caller, row.targetNodeId, `cancel job ${jobId}`);
      const cancelled = await installations.cancel(jobId, request.reason || `cancelled by ${caller}`);
      if (!cancelled) {
        const now = await findJob(jobId, false);
        assertTransition(jobId, now.status, 'cancelled');
        throw failedPrecondition('INVALID_TRANSITION', `job ${jobId} is ${now.status}; it cannot be cancelled`);
      }
      return { installation: installationToProto(cancelled) };
    },

    async watchInstallation(request, ctx, send) {
      const jobId = requireJobId(request.jobId);
      if (!Number.isSafeInteger(request.fromLine) || request.fromLine < 0) {
        throw invalidField('from_line', 'INVALID_FROM_LINE', `must be 0 or the number of lines already received, not ${request.fromLine}`);
      }
      // Every watch adds a listener to the server's shutdown signal; hundreds of watches are normal.
      setMaxListeners(0, ctx.shutdownSignal);
      for await (const event of deps.feeds.watch(jobId, request.fromLine, [ctx.signal, ctx.shutdownSignal])) {
        let message = watchMessages.get(event);
        if (!message) {
          message = { firstLine: event.firstLine, lines: event.lines, status: statusToProto(event.status), statusMessage: event.statusMessage ?? '' };
          watchMessages.set(event, message);
        }
        await send(message);
      }
    },
  };
}

function requireDid(value: string, field: string): string {
  if (value === '') throw invalidField(field, 'INVALID_NODE_ID', "is required: the node's did:key");
  try {
    parseDid(value);
  } catch (err) {
    if (!(err instanceof DidError)) throw err;
    throw invalidField(field, 'INVALID_NODE_ID', `"${shorten(value)}" is not an Ed25519 did:key: ${err.message}`);
  }
  return value;
}

function readCursor(raw: unknown): InstallationCursor | undefined {
  if (raw === undefined) return undefined;
  const c = raw as Partial<InstallationCursor>;
  if (typeof c.t !== 'string' || !/^-?\d{1,20}$/.test(c.t) || typeof c.id !== 'string' || !/^[0-9a-f-]{36}$/.test(c.id)) {
    throw invalidField('page_token', 'INVALID_PAGE_TOKEN', 'is not a page token issued by this service');
  }
  return { t: c.t, id: c.id };
}

/**
 * The registry's service definition, with watch responses encoded once per
 * message object: a log batch shared by many watchers is serialized once.
 */
export function registryDefinition(): typeof registry.RegistryServiceService {
  const base = registry.RegistryServiceService;
  const encoded = new WeakMap<object, Buffer>();
  return {
    ...base,
    watchInstallation: {
      ...base.watchInstallation,
      responseSerialize(value: registry.WatchInstallationResponse): Buffer {
        let bytes = encoded.get(value);
        if (!bytes) {
          bytes = base.watchInstallation.responseSerialize(value);
          encoded.set(value, bytes);
        }
        return bytes;
      },
    },
  };
}
