/**
 * The registry's own metrics (`griot_registry_*`), registered in the registry
 * of its service instance (see ServiceMetrics in server-kit), and the handler
 * wrappers that count them at the gRPC boundary.
 */
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { cachedGauge, GriotError, type ServiceHandlers } from '@griot/server-kit';
import type { registry } from '@griot/proto';

type Handlers = ServiceHandlers<typeof registry.RegistryServiceService>;

/** What the registry counts. */
export class RegistryMetrics {
  /** Packages registered (not counting a repeated registration of the same package). */
  readonly packagesRegistered: Counter;
  /** RegisterPackage calls refused, by the reason of their error. */
  readonly registrationsRefused: Counter<'reason'>;
  /** Installation jobs claimed by agents. */
  readonly claims: Counter;
  /** Running jobs whose lease expired (requeued, or failed after their last attempt). */
  readonly leaseExpiries: Counter;
  /** Log lines reported by agents. */
  readonly logLines: Counter;
  /** WatchInstallation streams open now. */
  readonly activeWatchers: Gauge;
  /** How long job notifications take from their statement to this replica. */
  readonly notificationLag: Histogram;

  /** Registers the metrics in `registry`; jobs by status are counted in `knex` when scraped (cached 5 s). */
  constructor(registry: Registry, knex: Knex) {
    const registers = [registry];
    this.packagesRegistered = new Counter({ name: 'griot_registry_packages_registered_total', help: 'Packages registered (a repeated registration of the same package is not counted).', registers });
    this.registrationsRefused = new Counter({ name: 'griot_registry_registrations_refused_total', help: 'RegisterPackage calls refused, by reason.', labelNames: ['reason'], registers });
    this.claims = new Counter({ name: 'griot_registry_claims_total', help: 'Installation jobs claimed by agents.', registers });
    this.leaseExpiries = new Counter({ name: 'griot_registry_lease_expiries_total', help: 'Running jobs whose lease expired.', registers });
    this.logLines = new Counter({ name: 'griot_registry_log_lines_total', help: 'Installation log lines reported by agents.', registers });
    this.activeWatchers = new Gauge({ name: 'griot_registry_active_watchers', help: 'WatchInstallation streams open now.', registers });
    this.notificationLag = new Histogram({
      name: 'griot_registry_notification_lag_seconds',
      help: 'Time from the statement that changed a job (or queued work) to its notification reaching this replica.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    cachedGauge(registry, {
      name: 'griot_registry_jobs',
      help: 'Installation jobs by status (counted in the database when scraped, at most every 5 s).',
      labelName: 'status',
      cacheMs: 5000,
      read: async () => {
        const { rows } = await knex.raw<{ rows: { status: string; n: number | string }[] }>('SELECT status, count(*) AS n FROM installations GROUP BY status');
        return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      },
    });
  }

  /** The handlers, with RegisterPackage, ClaimInstallation, ReportInstallation and WatchInstallation counted. */
  count(handlers: Handlers): Handlers {
    const { registerPackage, claimInstallation, reportInstallation, watchInstallation } = handlers;
    return {
      ...handlers,
      ...(registerPackage && {
        registerPackage: async (request, ctx) => {
          try {
            const response = await registerPackage(request, ctx);
            if (!response.alreadyRegistered) this.packagesRegistered.inc();
            return response;
          } catch (err) {
            this.registrationsRefused.inc({ reason: err instanceof GriotError ? err.reason : 'INTERNAL' });
            throw err;
          }
        },
      }),
      ...(claimInstallation && {
        claimInstallation: async (request, ctx) => {
          const response = await claimInstallation(request, ctx);
          if (response.installation) this.claims.inc();
          return response;
        },
      }),
      ...(reportInstallation && {
        reportInstallation: (requests, ctx) => {
          const logLines = this.logLines;
          async function* counted(): AsyncGenerator<registry.ReportInstallationRequest> {
            for await (const m of requests) {
              if (m.logLines.length > 0) logLines.inc(m.logLines.length);
              yield m;
            }
          }
          return reportInstallation(counted(), ctx);
        },
      }),
      ...(watchInstallation && {
        watchInstallation: async (request, ctx, send) => {
          this.activeWatchers.inc();
          try {
            await watchInstallation(request, ctx, send);
          } finally {
            this.activeWatchers.dec();
          }
        },
      }),
    };
  }
}
