/**
 * Package owners: the did:keys that may publish versions of a name, manage
 * its owners and yank its versions. Owners add and remove owners (never the
 * last one); every change goes to the name's append-only audit log, which is
 * public together with the owners. Each change runs in one transaction that
 * holds the name's row lock, so it is serialized with registrations and
 * yanks of that name.
 *
 * Permission comes before existence: for a name nobody registered, the
 * caller is not an owner, so AddPackageOwner and RemovePackageOwner answer
 * PERMISSION_DENIED NOT_A_PACKAGE_OWNER (saying the name has no owners), not
 * NOT_FOUND. ListPackageOwners, a public read, answers NOT_FOUND
 * PACKAGE_NAME_NOT_FOUND for it.
 */
import type { Knex } from 'knex';
import {
  Code,
  GriotError,
  invalidField,
  notFound,
  permissionDenied,
  requireDid,
  resolvePageSize,
  type Logger,
  type PageTokens,
} from '@griot/server-kit';
import { PackageOwnersRepository, type PackageAuditRecord, type PackageOwnerRecord } from '../repository/package-owners-repository';
import { packageNameProblem } from './manifest';

/** Most owners of one package name. */
export const MAX_OWNERS = 100;

/** Page sizes of the audit log in ListPackageOwners. */
export const AUDIT_PAGE_SIZE = { defaultSize: 50, maxSize: 500 };

/** The owners of a name and one page of its audit log. */
export interface OwnersPage {
  /** Every current owner, oldest first. */
  owners: PackageOwnerRecord[];
  /** Audit entries, newest first. */
  audit: PackageAuditRecord[];
  /** The token of the next page, or empty at the end. */
  nextPageToken: string;
}

/**
 * Checks a package name given on its own (not in a manifest).
 * @throws INVALID_ARGUMENT INVALID_PACKAGE_NAME naming `field`.
 */
export function requirePackageName(value: string, field = 'name'): string {
  const problem = packageNameProblem(value);
  if (problem) throw invalidField(field, 'INVALID_PACKAGE_NAME', problem === 'is required' ? 'is required: the package name' : problem);
  return value;
}


/**
 * Checks that `caller` owns `name`.
 * @param action - What the caller tried, for the message ("publish hello@1.0.0").
 * @throws PERMISSION_DENIED NOT_A_PACKAGE_OWNER naming the owners (metadata
 *   `owners`: comma-separated did:keys, empty when the name has none).
 */
export function requireOwner(caller: string, name: string, owners: PackageOwnerRecord[], action: string): void {
  if (owners.some((o) => o.ownerDid === caller)) return;
  const dids = owners.map((o) => o.ownerDid);
  const why =
    dids.length === 0
      ? `no package named ${name} is registered, so it has no owners (the first registration of a name makes its author the owner)`
      : `${name} is owned by ${dids.join(', ')}; an owner can make you one with AddPackageOwner`;
  throw permissionDenied('NOT_A_PACKAGE_OWNER', `${caller} may not ${action}: ${why}`, { name, caller, owners: dids.join(',') });
}

/** Owner management of package names. */
export class PackageOwners {
  private readonly owners: PackageOwnersRepository;

  /**
   * @param db - The registry's database (owner changes run in transactions on it).
   * @param pageTokens - The deployment's page tokens (audit pages).
   */
  constructor(
    private readonly db: Knex,
    private readonly pageTokens: PageTokens,
  ) {
    this.owners = new PackageOwnersRepository(db);
  }

  /**
   * Makes `ownerDid` an owner of `name`; adding an owner again changes
   * nothing (and writes no audit entry).
   * @returns Every owner, oldest first.
   * @throws INVALID_ARGUMENT, PERMISSION_DENIED NOT_A_PACKAGE_OWNER, RESOURCE_EXHAUSTED TOO_MANY_OWNERS.
   */
  async add(caller: string, nameValue: string, ownerDidValue: string): Promise<PackageOwnerRecord[]> {
    return this.changeOwners(caller, nameValue, ownerDidValue, 'add owners of', async (owners, current, name, ownerDid) => {
      if (current.some((o) => o.ownerDid === ownerDid)) return current;
      if (current.length >= MAX_OWNERS) {
        throw new GriotError(Code.RESOURCE_EXHAUSTED, 'TOO_MANY_OWNERS', `${name} already has ${current.length} owners, the most a name may have; remove one first`, {
          metadata: { name, owners: current.length, limit: MAX_OWNERS },
        });
      }
      await owners.addOwner(name, ownerDid, caller);
      await owners.appendAudit({ name, action: 'OWNER_ADDED', actorDid: caller, ownerDid });
      return owners.owners(name);
    });
  }

  /**
   * Removes `ownerDid` from the owners of `name`; an owner may remove
   * itself, but nobody may remove the last owner.
   * @returns Every remaining owner, oldest first.
   * @throws INVALID_ARGUMENT, PERMISSION_DENIED NOT_A_PACKAGE_OWNER, NOT_FOUND
   *   PACKAGE_OWNER_NOT_FOUND (not an owner), FAILED_PRECONDITION LAST_OWNER.
   */
  async remove(caller: string, nameValue: string, ownerDidValue: string): Promise<PackageOwnerRecord[]> {
    return this.changeOwners(caller, nameValue, ownerDidValue, 'remove owners of', async (owners, current, name, ownerDid) => {
      if (!current.some((o) => o.ownerDid === ownerDid)) {
        throw notFound('PackageOwner', ownerDid, `${ownerDid} is not an owner of ${name}; its owners are ${current.map((o) => o.ownerDid).join(', ')}`);
      }
      if (current.length === 1) {
        throw new GriotError(Code.FAILED_PRECONDITION, 'LAST_OWNER', `${ownerDid} is the last owner of ${name} and cannot be removed; add another owner first`, {
          metadata: { name, ownerDid },
        });
      }
      await owners.removeOwner(name, ownerDid);
      await owners.appendAudit({ name, action: 'OWNER_REMOVED', actorDid: caller, ownerDid });
      return owners.owners(name);
    });
  }

  /**
   * Checks the request, then runs `change` in a transaction that holds the
   * name's lock, once the caller is known to be a current owner.
   */
  private async changeOwners(
    caller: string,
    nameValue: string,
    ownerDidValue: string,
    action: string,
    change: (owners: PackageOwnersRepository, current: PackageOwnerRecord[], name: string, ownerDid: string) => Promise<PackageOwnerRecord[]>,
  ): Promise<PackageOwnerRecord[]> {
    const name = requirePackageName(nameValue);
    const ownerDid = requireDid('owner_did', ownerDidValue);
    return this.db.transaction(async (trx) => {
      const owners = new PackageOwnersRepository(trx);
      await owners.lockName(name);
      const current = await owners.owners(name);
      requireOwner(caller, name, current, `${action} ${name}`);
      return change(owners, current, name, ownerDid);
    });
  }

  /**
   * The owners of `name` and one page of its audit log, newest first.
   * @throws INVALID_ARGUMENT (name, page size, page token), NOT_FOUND PACKAGE_NAME_NOT_FOUND.
   */
  async list(nameValue: string, pageSizeValue: number, pageToken: string): Promise<OwnersPage> {
    const name = requirePackageName(nameValue);
    const pageSize = resolvePageSize(pageSizeValue, AUDIT_PAGE_SIZE);
    const query = { kind: 'package-owners', name };
    const after = readAuditCursor(this.pageTokens.decode<unknown>(pageToken, query));
    const owners = await this.owners.owners(name);
    // A registered name always has an owner: the last one cannot be removed.
    if (owners.length === 0) throw notFound('PackageName', name, `no package named ${name} is registered`);
    const { rows, more } = await this.owners.auditPage(name, pageSize, after);
    const last = rows[rows.length - 1];
    return { owners, audit: rows, nextPageToken: more && last ? this.pageTokens.encode(query, { id: last.id }) : '' };
  }
}

function readAuditCursor(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  const id = (raw as { id?: unknown }).id;
  if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id)) throw invalidField('page_token', 'INVALID_PAGE_TOKEN', 'is not a page token issued by this service');
  return id;
}

/** The actor of the audit entries migration 005 wrote for the versions it yanked (see migrations/registry/005_package_owners.ts). */
export const MIGRATION_005_ACTOR = 'migration:005';

/**
 * Logs, one warning each, the versions migration 005 yanked because they
 * broke the new rules (another author's versions of a name, a second artifact
 * for a name@version): the migration's log, kept in the audit log.
 * @returns How many it yanked.
 */
export async function logMigrationYanks(db: Knex, logger: Logger): Promise<number> {
  const entries = (await new PackageOwnersRepository(db).auditByActor(MIGRATION_005_ACTOR)).filter((e) => e.action === 'VERSION_YANKED');
  for (const e of entries) logger.warn({ name: e.name, packageId: e.packageId, reason: e.reason }, 'migration 005 yanked a package that breaks the owner and version rules');
  return entries.length;
}
