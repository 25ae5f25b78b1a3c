/**
 * RegistryService installation methods: create, get, list, claim, report,
 * cancel and watch. Each authenticates the caller (every installation call
 * needs a caller token), maps the request to the domain
 * (`domain/installations.ts`, where the rules are) and the answer back.
 */
import { setMaxListeners } from 'node:events';
import { registry } from '@griot/proto';
import type { CallerAuthenticator, ServiceHandlers } from '@griot/server-kit';
import { framedMessage } from '@griot/transport';
import type { Installations, ReportMessage } from '../domain/installations';
import type { JobFeeds } from '../events/job-feeds';
import { toInstallationMessage, toPackageMessage, fromInstallationStatus, toInstallationStatus } from './messages';

type Handlers = ServiceHandlers<typeof registry.RegistryServiceService>;

/** What the installation methods need. */
export interface InstallationHandlerDeps {
  /** The installation rules. */
  installations: Installations;
  /** Verifies caller tokens. */
  authenticate: CallerAuthenticator;
  /** Shared watch feeds. */
  feeds: JobFeeds;
}

/** The installation methods. */
export function installationHandlers(deps: InstallationHandlerDeps): Handlers {
  const { installations, authenticate } = deps;
  // Watchers at the same place share one event, hence one message (encoded once, see registryDefinition).
  const watchMessages = new WeakMap<object, registry.WatchInstallationResponse>();

  return {
    async createInstallation(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const row = await installations.create(caller, { packageId: request.packageId, targetNodeId: request.targetNodeId }, ctx.signal);
      ctx.logger.info({ jobId: row.jobId, targetNodeId: row.targetNodeId, createdBy: caller }, 'installation created');
      return { installation: toInstallationMessage(row) };
    },

    async getInstallation(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      return { installation: toInstallationMessage(await installations.get(caller, request.jobId)) };
    },

    async listInstallations(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const page = await installations.list(caller, {
        status: fromInstallationStatus(request.status, 'status'),
        targetNodeId: request.targetNodeId,
        packageId: request.packageId,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { installations: page.rows.map((r) => toInstallationMessage(r)), nextPageToken: page.nextPageToken };
    },

    async claimInstallation(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const claimed = await installations.claim(
        caller,
        { waitMillis: request.waitMillis, deadline: ctx.deadline, signals: [ctx.signal, ctx.shutdownSignal] },
        (row) => ctx.logger.info({ jobId: row.jobId, attempt: row.attempts }, 'installation claimed'),
      );
      if (!claimed) return { installation: undefined, installOrder: [] };
      return { installation: toInstallationMessage(claimed.job), installOrder: claimed.installOrder.map(toPackageMessage) };
    },

    async reportInstallation(requests, ctx) {
      const caller = await authenticate(ctx.metadata);
      async function* messages(): AsyncGenerator<ReportMessage> {
        for await (const m of requests) {
          yield { jobId: m.jobId, logLines: m.logLines, status: () => fromInstallationStatus(m.status, 'status'), statusMessage: m.statusMessage };
        }
      }
      return { installation: toInstallationMessage(await installations.report(caller, messages())) };
    },

    async cancelInstallation(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      return { installation: toInstallationMessage(await installations.cancel(caller, request.jobId, request.reason)) };
    },

    async watchInstallation(request, ctx, send) {
      const caller = await authenticate(ctx.metadata);
      const jobId = await installations.authorizeWatch(caller, request.jobId, request.fromLine);
      // Every watch adds a listener to the server's shutdown signal; hundreds of watches are normal.
      setMaxListeners(0, ctx.shutdownSignal);
      for await (const event of deps.feeds.watch(jobId, request.fromLine, [ctx.signal, ctx.shutdownSignal])) {
        let message = watchMessages.get(event);
        if (!message) {
          message = { firstLine: event.firstLine, lines: event.lines, status: toInstallationStatus(event.status), statusMessage: event.statusMessage ?? '' };
          watchMessages.set(event, message);
        }
        await send(message);
      }
    },
  };
}

/**
 * The registry's service definition, with watch responses encoded and framed
 * once per message object: a log batch shared by many watchers is serialized
 * once, and each watch sends those same bytes without a copy of its own.
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
          bytes = framedMessage(base.watchInstallation.responseSerialize(value));
          encoded.set(value, bytes);
        }
        return bytes;
      },
    },
  };
}
