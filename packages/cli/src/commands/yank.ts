/**
 * `griot yank NAME@VERSION --key FILE [--reason TEXT]` and
 * `griot unyank NAME@VERSION --key FILE`: an owner of the name takes a
 * version out of range resolution, or puts it back. A package id is accepted
 * too, and needed when several artifacts of one name@version match.
 */
import type { registry } from '@griot/proto';
import { CliError, ExitCode, usageError } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { unary } from '../grpc-call';
import { callerMetadata, loadCallerKey } from '../key-files';
import { findPackage, packageLabel, parsePackageRef } from '../package-ref';
import { packageJson } from './search';

/** Longest yank reason the registry keeps. */
const MAX_REASON = 1024;

/**
 * Every package a `NAME@VERSION` names, yanked ones included.
 *
 * @param ctx - The command context.
 * @param name - The package name.
 * @param version - The version.
 */
export async function packagesAt(ctx: CommandContext, name: string, version: string): Promise<registry.Package[]> {
  const client = ctx.clients.registry();
  const found: registry.Package[] = [];
  let pageToken = '';
  do {
    const req: registry.ListPackagesRequest = { authorDid: '', name, version, nodeClass: '', manifestContains: undefined, pageSize: 100, pageToken, includeYanked: true };
    const res = await unary<registry.ListPackagesResponse>(ctx.clients.registryEndpoint, (md, o, cb) => client.listPackages(req, md, o, cb));
    found.push(...res.packages);
    pageToken = res.nextPageToken;
  } while (pageToken !== '');
  return found;
}

/**
 * Picks the one package that a yank (`yanked` false: among the unyanked) or an
 * unyank (`yanked` true: among the yanked) of `NAME@VERSION` means.
 *
 * @param ref - The reference as typed.
 * @param candidates - Every package of that name@version.
 * @param wantYanked - Whether the package sought is a yanked one.
 * @throws {@link CliError} when none or several match.
 */
export function pickVersion(ref: string, candidates: readonly registry.Package[], wantYanked: boolean): registry.Package {
  if (candidates.length === 0) throw new CliError(`package ${ref} not found`, ExitCode.NOT_FOUND);
  const matching = candidates.filter((p) => p.yanked === wantYanked);
  // Yanking a yanked version again (or unyanking a live one) is left to the registry to answer.
  const pool = matching.length > 0 ? matching : candidates;
  if (pool.length > 1) {
    const ids = pool.map((p) => `${p.packageId} (author ${p.authorDid}${p.yanked ? ', yanked' : ''})`).join(', ');
    throw usageError(`${pool.length} packages are ${ref}; give the package id instead: ${ids}`);
  }
  return pool[0]!;
}

async function resolveTarget(ctx: CommandContext, wantYanked: boolean): Promise<registry.Package> {
  const ref = ctx.args[0]!;
  const parsed = parsePackageRef(ref);
  if ('packageId' in parsed) return findPackage(ctx, ref);
  if (parsed.version === undefined) throw usageError(`${JSON.stringify(ref)} names no version: give NAME@VERSION or a package id`);
  return pickVersion(ref, await packagesAt(ctx, parsed.name, parsed.version), wantYanked);
}

/** The yank command. */
export const yankCommand: Command = {
  name: 'yank',
  usage: 'yank NAME@VERSION|PACKAGE_ID --key FILE [--reason TEXT]',
  summary: 'as an owner of the name, yank a version: ranges no longer resolve to it; installs by its package id still work and log the reason',
  options: { key: { type: 'string', short: 'k' }, reason: { type: 'string' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const reason = ctx.string('reason') ?? '';
    if (reason.length > MAX_REASON) throw usageError(`--reason is ${reason.length} characters; at most ${MAX_REASON}`);
    const caller = await loadCallerKey(ctx, 'only an owner of the package name may yank its versions');
    const pkg = await resolveTarget(ctx, false);
    const client = ctx.clients.registry();
    const res = await unary<registry.YankPackageResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.yankPackage({ packageId: pkg.packageId, reason }, md, o, cb),
      callerMetadata(caller, ctx.audience),
    );
    const yanked = res.package ?? pkg;
    ctx.result(packageJson(yanked), () => `yanked ${packageLabel(yanked)} (${yanked.packageId})${yanked.yankReason ? `: ${yanked.yankReason}` : ''}`);
  },
};

/** The unyank command. */
export const unyankCommand: Command = {
  name: 'unyank',
  usage: 'unyank NAME@VERSION|PACKAGE_ID --key FILE',
  summary: 'as an owner of the name, make a yanked version resolvable again',
  options: { key: { type: 'string', short: 'k' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const caller = await loadCallerKey(ctx, 'only an owner of the package name may unyank its versions');
    const pkg = await resolveTarget(ctx, true);
    const client = ctx.clients.registry();
    const res = await unary<registry.UnyankPackageResponse>(
      ctx.clients.registryEndpoint,
      (md, o, cb) => client.unyankPackage({ packageId: pkg.packageId }, md, o, cb),
      callerMetadata(caller, ctx.audience),
    );
    const unyanked = res.package ?? pkg;
    ctx.result(packageJson(unyanked), () => `unyanked ${packageLabel(unyanked)} (${unyanked.packageId})`);
  },
};
