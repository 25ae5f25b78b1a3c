/**
 * RegistryService owner methods: AddPackageOwner, RemovePackageOwner (both
 * authenticate the caller first) and ListPackageOwners (public). Requests
 * in, domain calls (`domain/owners.ts`), messages out.
 */
import type { registry } from '@griot/proto';
import type { CallerAuthenticator, ServiceHandlers } from '@griot/server-kit';
import type { PackageOwners } from '../domain/owners';
import { toAuditEntryMessage, toOwnerMessage } from './messages';

type Handlers = ServiceHandlers<typeof registry.RegistryServiceService>;

/** What the owner methods need. */
export interface OwnerHandlerDeps {
  /** The owner rules. */
  owners: PackageOwners;
  /** Verifies caller tokens. */
  authenticate: CallerAuthenticator;
}

/** The owner methods. */
export function ownerHandlers(deps: OwnerHandlerDeps): Handlers {
  const { owners, authenticate } = deps;
  return {
    async addPackageOwner(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const rows = await owners.add(caller, request.name, request.ownerDid);
      ctx.logger.info({ name: request.name, ownerDid: request.ownerDid, caller }, 'package owner added');
      return { owners: rows.map(toOwnerMessage) };
    },

    async removePackageOwner(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const rows = await owners.remove(caller, request.name, request.ownerDid);
      ctx.logger.info({ name: request.name, ownerDid: request.ownerDid, caller }, 'package owner removed');
      return { owners: rows.map(toOwnerMessage) };
    },

    async listPackageOwners(request) {
      const page = await owners.list(request.name, request.pageSize, request.pageToken);
      return { owners: page.owners.map(toOwnerMessage), audit: page.audit.map(toAuditEntryMessage), nextPageToken: page.nextPageToken };
    },
  };
}
