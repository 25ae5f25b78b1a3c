/**
 * Finding a package by `NAME@VERSION`, `NAME` (the newest) or its id.
 */
import type { registry } from '@griot/proto';
import { CliError, ExitCode, usageError } from './cli-error';
import type { CommandContext } from './command';
import { unary } from './grpc-call';

const PACKAGE_ID = /^[0-9a-f]{64}$/;

/** A parsed package reference. */
export type PackageRef = { readonly packageId: string } | { readonly name: string; readonly version?: string };

/**
 * Parses `NAME@VERSION`, `@scope/name@VERSION`, `NAME` or a 64-hex package id.
 *
 * @param ref - The reference as typed.
 * @throws {@link CliError} (usage) when it is empty.
 */
export function parsePackageRef(ref: string): PackageRef {
  if (PACKAGE_ID.test(ref)) return { packageId: ref };
  const at = ref.lastIndexOf('@');
  if (at > 0) {
    const name = ref.slice(0, at);
    const version = ref.slice(at + 1);
    if (name === '' || version === '') throw usageError(`${JSON.stringify(ref)} is not NAME@VERSION or a package id`);
    return { name, version };
  }
  if (ref === '' || ref === '@') throw usageError('a package reference (NAME@VERSION or a package id) is required');
  return { name: ref };
}

/**
 * Fetches the package a reference names. `NAME` and `NAME@VERSION` skip
 * yanked versions unless `includeYanked`; a package id always answers.
 *
 * @param ctx - The command context.
 * @param ref - The reference as typed.
 * @param options - `includeYanked`: let `NAME@VERSION` name a yanked version too.
 * @throws {@link CliError} NOT_FOUND when none matches (saying so when only a yanked one does).
 */
export async function findPackage(ctx: CommandContext, ref: string, options: { includeYanked?: boolean } = {}): Promise<registry.Package> {
  const parsed = parsePackageRef(ref);
  const client = ctx.clients.registry();
  const endpoint = ctx.clients.registryEndpoint;
  if ('packageId' in parsed) {
    const res = await unary<registry.GetPackageResponse>(endpoint, (md, o, cb) => client.getPackage({ packageId: parsed.packageId }, md, o, cb));
    if (!res.package) throw new CliError(`package ${parsed.packageId} not found`, ExitCode.NOT_FOUND);
    return res.package;
  }
  const list = async (includeYanked: boolean): Promise<registry.Package | undefined> => {
    const res = await unary<registry.ListPackagesResponse>(endpoint, (md, o, cb) =>
      client.listPackages(
        { authorDid: '', name: parsed.name, version: parsed.version ?? '', nodeClass: '', manifestContains: undefined, pageSize: 1, pageToken: '', includeYanked },
        md,
        o,
        cb,
      ),
    );
    return res.packages[0];
  };
  // A live version first, even where a yanked artifact of the same name@version is newer.
  const found = await list(false);
  if (found) return found;
  const yanked = parsed.version !== undefined ? await list(true) : undefined;
  if (yanked && options.includeYanked === true) return yanked;
  if (yanked) {
    throw new CliError(`${ref} is yanked${yanked.yankReason ? ` (${yanked.yankReason})` : ''}; name it by its package id ${yanked.packageId} to use it anyway`, ExitCode.NOT_FOUND);
  }
  throw new CliError(`package ${ref} not found`, ExitCode.NOT_FOUND);
}

/** `name@version` of a package, from its manifest. */
export function packageLabel(pkg: registry.Package): string {
  const m = (pkg.manifest ?? {}) as Record<string, unknown>;
  return `${String(m['name'] ?? '?')}@${String(m['version'] ?? '?')}`;
}
