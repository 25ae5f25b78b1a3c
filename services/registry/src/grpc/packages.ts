/**
 * RegistryService package methods: RegisterPackage, GetPackage, ListPackages,
 * ResolveDependencies, YankPackage and UnyankPackage. Requests in, domain
 * calls (`domain/packages.ts`, where the rules are), messages out. Yanks
 * authenticate the caller first; reads are public.
 */
import type { registry } from '@griot/proto';
import type { CallerAuthenticator, ServiceHandlers } from '@griot/server-kit';
import type { Packages } from '../domain/packages';
import { toGetPackageResponse, toPackageMessage } from './messages';

type Handlers = ServiceHandlers<typeof registry.RegistryServiceService>;

/** What the package methods need. */
export interface PackageHandlerDeps {
  /** The package rules. */
  packages: Packages;
  /** Verifies caller tokens. */
  authenticate: CallerAuthenticator;
}

/** The package methods. */
export function packageHandlers(deps: PackageHandlerDeps): Handlers {
  const { packages, authenticate } = deps;
  return {
    async registerPackage(request, ctx) {
      const { row, alreadyRegistered } = await packages.register(
        { packageId: request.packageId, manifest: request.manifest, artifactUrl: request.artifactUrl },
        { signal: ctx.signal, outgoingMetadata: ctx.outgoingMetadata(), logger: ctx.logger },
      );
      return { package: toPackageMessage(row), alreadyRegistered };
    },

    async getPackage(request) {
      return toGetPackageResponse(await packages.get(request.packageId));
    },

    async listPackages(request) {
      const page = await packages.list({
        authorDid: request.authorDid,
        name: request.name,
        version: request.version,
        nodeClass: request.nodeClass,
        manifestContains: request.manifestContains,
        includeYanked: request.includeYanked,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { packages: page.rows.map(toPackageMessage), nextPageToken: page.nextPageToken };
    },

    async resolveDependencies(request) {
      return { packages: (await packages.resolve(request.packageId)).map(toPackageMessage) };
    },

    async yankPackage(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const row = await packages.yank(caller, request.packageId, request.reason);
      ctx.logger.info({ packageId: row.packageId, caller, reason: row.yankReason }, 'package yanked');
      return { package: toPackageMessage(row) };
    },

    async unyankPackage(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const row = await packages.unyank(caller, request.packageId);
      ctx.logger.info({ packageId: row.packageId, caller }, 'package unyanked');
      return { package: toPackageMessage(row) };
    },
  };
}
