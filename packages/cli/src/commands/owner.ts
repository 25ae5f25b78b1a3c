/**
 * `griot owner add|rm NAME DID --key FILE` and `griot owner ls NAME`: the
 * did:keys that own a package name (they publish its versions, yank them and
 * manage its owners), and the audit log of those changes.
 */
import { parseDid } from '@griot/did';
import { registry } from '@griot/proto';
import { usageError } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { unary } from '../grpc-call';
import { isValidPackageName } from '@griot/client';
import { callerMetadata, loadCallerKey } from '../key-files';

function nameArg(ctx: CommandContext): string {
  const name = ctx.args[0]!;
  if (!isValidPackageName(name)) throw usageError(`${JSON.stringify(name)} is not a package name (lowercase letters, digits, . _ -, optionally @scope/)`);
  return name;
}

function didArg(ctx: CommandContext): string {
  const did = ctx.args[1]!;
  try {
    parseDid(did);
  } catch (err: unknown) {
    throw usageError(`${JSON.stringify(did)} is not a did:key (${(err as Error).message})`);
  }
  return did;
}

/** An owner as printed with --json. */
export function ownerJson(o: registry.PackageOwner): Record<string, unknown> {
  return { did: o.did, addedBy: o.addedBy, addTime: o.addTime?.toISOString() ?? null };
}

/** `owner_added`, `version_yanked`, … for an audit action. */
export function auditActionName(action: registry.PackageAuditAction): string {
  return registry.packageAuditActionToJSON(action).replace('PACKAGE_AUDIT_ACTION_', '').toLowerCase();
}

/** An audit entry as printed with --json. */
export function auditJson(e: registry.PackageAuditEntry): Record<string, unknown> {
  return { action: auditActionName(e.action), actorDid: e.actorDid, ownerDid: e.ownerDid, packageId: e.packageId, reason: e.reason, createTime: e.createTime?.toISOString() ?? null };
}

/** One line of the audit log, for people. */
export function auditLine(e: registry.PackageAuditEntry): string {
  const when = e.createTime?.toISOString() ?? '';
  const what =
    e.action === registry.PackageAuditAction.PACKAGE_AUDIT_ACTION_OWNER_ADDED || e.action === registry.PackageAuditAction.PACKAGE_AUDIT_ACTION_OWNER_REMOVED
      ? e.ownerDid
      : `${e.packageId}${e.reason ? ` (${e.reason})` : ''}`;
  return `  ${when}  ${auditActionName(e.action).padEnd(16)} ${what}  by ${e.actorDid}`;
}

function ownerLines(name: string, owners: readonly registry.PackageOwner[]): string[] {
  return [`owners of ${name}:`, ...owners.map((o) => `  ${o.did}  added ${o.addTime?.toISOString() ?? ''} by ${o.addedBy}`)];
}

/** `griot owner add NAME DID --key FILE`. */
export const ownerAddCommand: Command = {
  name: 'owner add',
  usage: 'owner add NAME DID --key FILE',
  summary: 'as an owner of the package name, make another did:key an owner too',
  options: { key: { type: 'string', short: 'k' } },
  args: { min: 2, max: 2 },
  async run(ctx) {
    const name = nameArg(ctx);
    const ownerDid = didArg(ctx);
    const caller = await loadCallerKey(ctx, 'only an owner of the package name may add owners');
    const client = ctx.clients.registry();
    const res = await unary<registry.AddPackageOwnerResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.addPackageOwner({ name, ownerDid }, md, o, cb),
      callerMetadata(caller, ctx.audience),
    );
    ctx.result({ name, owners: res.owners.map(ownerJson) }, () => ownerLines(name, res.owners));
  },
};

/** `griot owner rm NAME DID --key FILE`. */
export const ownerRmCommand: Command = {
  name: 'owner rm',
  usage: 'owner rm NAME DID --key FILE',
  summary: 'as an owner of the package name, remove an owner (never the last one)',
  options: { key: { type: 'string', short: 'k' } },
  args: { min: 2, max: 2 },
  async run(ctx) {
    const name = nameArg(ctx);
    const ownerDid = didArg(ctx);
    const caller = await loadCallerKey(ctx, 'only an owner of the package name may remove owners');
    const client = ctx.clients.registry();
    const res = await unary<registry.RemovePackageOwnerResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.removePackageOwner({ name, ownerDid }, md, o, cb),
      callerMetadata(caller, ctx.audience),
    );
    ctx.result({ name, owners: res.owners.map(ownerJson) }, () => ownerLines(name, res.owners));
  },
};

/** `griot owner ls NAME`. */
export const ownerLsCommand: Command = {
  name: 'owner ls',
  usage: 'owner ls NAME [--limit N]',
  summary: "print a package name's owners and the audit log of its owner changes and yanks, newest first (--limit: at most N entries, default all)",
  options: { limit: { type: 'string' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const name = nameArg(ctx);
    const limitText = ctx.string('limit');
    const limit = limitText === undefined ? Infinity : Number(limitText);
    if (limitText !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw usageError('--limit must be a positive integer');
    const client = ctx.clients.registry();
    let owners: registry.PackageOwner[] = [];
    const audit: registry.PackageAuditEntry[] = [];
    let pageToken = '';
    do {
      const req: registry.ListPackageOwnersRequest = { name, pageSize: Math.min(limit - audit.length, 100), pageToken };
      const res = await unary<registry.ListPackageOwnersResponse>(ctx.clients.registryEndpoint, (md, o, cb) => client.listPackageOwners(req, md, o, cb));
      owners = res.owners;
      audit.push(...res.audit);
      pageToken = res.nextPageToken;
    } while (pageToken !== '' && audit.length < limit);
    const shown = audit.slice(0, limit);
    ctx.result({ name, owners: owners.map(ownerJson), audit: shown.map(auditJson) }, () => [...ownerLines(name, owners), 'audit log, newest first:', ...shown.map(auditLine)]);
  },
};
