/**
 * Packages: registration, reads, dependency resolution and yanks.
 *
 * Registration rules: the package id is the artifact's SHA-256; the first
 * registration of a name makes its author the name's sole owner, a later
 * version must be signed by a current owner (PERMISSION_DENIED
 * NOT_A_PACKAGE_OWNER); a name@version is registered once (the same artifact
 * again is idempotent, another is ALREADY_EXISTS VERSION_EXISTS). The checks
 * that decide run in the inserting transaction, holding the name's row lock
 * (see {@link PackageOwnersRepository.claimName}), so two first
 * registrations of one new name racing end with exactly one owner, and two
 * artifacts for one name@version with exactly one package.
 *
 * A package re-registered with the same manifest is answered before any
 * owner check: it writes nothing, and its manifest is signed by its author,
 * whose signature was verified.
 *
 * Yanks: an owner yanks a version (with a reason) or unyanks it; range
 * resolution skips yanked versions, an install by exact package id does not.
 * For a package id that is not registered, YankPackage and UnyankPackage
 * answer NOT_FOUND: without the package there is no name whose owners could
 * be checked, and package reads are public, so nothing is revealed.
 */
import type { Knex } from 'knex';
import {
  alreadyExists,
  Code,
  GriotError,
  invalidArgument,
  invalidField,
  notFound,
  readKeysetCursor,
  requireMaxLength,
  requireNoNul,
  requireSha256,
  resolvePageSize,
  shorten,
  stableJson,
  type PageTokens,
  type Logger,
} from '@griot/server-kit';
import type { ArtifactChecker } from '../clients/content-store-client';
import { PackageOwnersRepository } from '../repository/package-owners-repository';
import { PACKAGE_KEYSET, PackagesRepository, type NewPackageRecord, type PackageCursor, type PackageFilters, type PackageRecord } from '../repository/packages-repository';
import { resolveArtifactUrl, type ArtifactLocation } from './artifact-url';
import { resolveInstallOrder, type ResolvablePackage } from './dependency-resolution';
import { LruCache } from './lru-cache';
import { YankChecks } from './yank-checks';
import { jsonShapeProblem, validateManifest, type ValidManifest } from './manifest';
import { requireOwner } from './owners';

/** Page sizes of ListPackages. */
export const PACKAGE_PAGE_SIZE = { defaultSize: 50, maxSize: 500 };

/** Longest yank reason, in characters. */
export const MAX_YANK_REASON = 1024;

/** The outgoing metadata handed to the content store check (the caller's request id). */
export type OutgoingMetadata = Parameters<ArtifactChecker['checkArtifact']>[2];

/**
 * What a cached package counts for against REGISTRY_PACKAGE_CACHE_BYTES: its
 * manifest's JSON bytes, its other strings, and 256 bytes of overhead.
 */
export function cachedPackageBytes(row: PackageRecord): number {
  return (
    Buffer.byteLength(JSON.stringify(row.manifest)) + row.artifactUrl.length + row.signature.length + row.authorDid.length + (row.yankReason?.length ?? 0) + 256
  );
}

/** What packages need. */
export interface PackagesDeps {
  /** The registry's database (registrations and yanks run in transactions on it). */
  db: Knex;
  /** The content store check. */
  artifacts: ArtifactChecker;
  /** Largest manifest, in JSON bytes. */
  maxManifestBytes: number;
  /** How many packages GetPackage keeps in memory. */
  cacheSize: number;
  /** The bytes they may hold in all, counted by {@link cachedPackageBytes} (default no byte limit). */
  cacheBytes?: number;
  /** Most bytes of packages (counted the same way) one ListPackages page carries (default no limit). */
  maxListPageBytes?: number;
  /** The deployment's page tokens. */
  pageTokens: PageTokens;
}

/** A registration request. */
export interface RegisterInput {
  /** The package id (SHA-256 hex of the artifact). */
  packageId: string;
  /** The signed manifest. */
  manifest: Record<string, unknown> | undefined;
  /** Where the artifact is; empty for the content store. */
  artifactUrl: string;
}

/** What a registration knows of its call. */
export interface RegisterContext {
  /** Aborted when the caller's deadline passed or it cancelled. */
  signal: AbortSignal;
  /** Metadata for the content store call. */
  outgoingMetadata: OutgoingMetadata;
  /** The call's logger. */
  logger: Logger;
}

/** The filters and page of a listing, as requested. */
export interface ListInput {
  /** Author did:key, or empty. */
  authorDid: string;
  /** Name, or empty. */
  name: string;
  /** Version, or empty. */
  version: string;
  /** Node class, or empty. */
  nodeClass: string;
  /** JSON the manifest must contain, or undefined/empty. */
  manifestContains?: Record<string, unknown>;
  /** Whether yanked packages are listed too. */
  includeYanked: boolean;
  /** Page size; 0 = default. */
  pageSize: number;
  /** Token of the next page, or empty. */
  pageToken: string;
}

/** Package operations. */
export class Packages {
  private readonly packages: PackagesRepository;
  private readonly owners: PackageOwnersRepository;
  private readonly cache: LruCache<string, PackageRecord>;
  private readonly yankChecks: YankChecks;

  constructor(private readonly deps: PackagesDeps) {
    this.packages = new PackagesRepository(deps.db);
    this.owners = new PackageOwnersRepository(deps.db);
    this.cache = new LruCache(deps.cacheSize, { maxBytes: deps.cacheBytes, sizeOf: cachedPackageBytes });
    this.yankChecks = new YankChecks((ids) => this.packages.yankStates(ids));
  }

  /**
   * Registers a package (see the module comment for the rules).
   * @returns The package and whether it was registered before this call.
   * @throws INVALID_ARGUMENT (id, manifest, proof, artifact URL), PERMISSION_DENIED NOT_A_PACKAGE_OWNER,
   *   ALREADY_EXISTS VERSION_EXISTS / PACKAGE_ALREADY_EXISTS, the content store check's errors.
   */
  async register(input: RegisterInput, ctx: RegisterContext): Promise<{ row: PackageRecord; alreadyRegistered: boolean }> {
    const packageId = requireSha256('package_id', input.packageId);
    const manifest = validateManifest(input.manifest, { maxBytes: this.deps.maxManifestBytes });
    if (manifest.artifact.sha256 !== packageId) {
      throw invalidArgument(
        'PACKAGE_ID_MISMATCH',
        `package_id ${packageId} is not the artifact digest of the manifest (${manifest.artifact.digest}); the package id is the SHA-256 of the artifact`,
        [{ field: 'package_id', description: `must equal the hex of manifest.artifact.digest (${manifest.artifact.sha256})` }],
      );
    }
    const location = resolveArtifactUrl(input.artifactUrl, packageId);
    const candidate: NewPackageRecord = {
      packageId,
      manifest: manifest.document,
      artifactUrl: location.url,
      authorDid: manifest.author,
      signature: manifest.proofValue,
    };
    const existing = await this.packages.findById(packageId);
    if (existing) {
      requireSame(existing, candidate);
      await this.keepArtifact(existing, manifest, location, ctx);
      return { row: existing, alreadyRegistered: true };
    }
    // Refuse early, before asking the content store, what the transaction below would refuse too.
    await checkPublishable(this.packages, this.owners, manifest, packageId);
    if (location.inContentStore) await this.deps.artifacts.checkArtifact(packageId, manifest.artifact.size, ctx.outgoingMetadata);
    ctx.signal.throwIfAborted();

    const outcome = await this.deps.db.transaction(async (trx) => {
      const packages = new PackagesRepository(trx);
      const owners = new PackageOwnersRepository(trx);
      const first = await owners.claimName(manifest.name, manifest.author);
      if (!first) await checkPublishable(packages, owners, manifest, packageId);
      const { row, inserted } = await packages.insert(candidate);
      if (!inserted) {
        // The same package, registered meanwhile by a concurrent call (another one rolls back here).
        requireSame(row, candidate);
        return { row, inserted };
      }
      if (first) {
        await owners.addOwner(manifest.name, manifest.author, manifest.author);
        await owners.appendAudit({ name: manifest.name, action: 'OWNER_ADDED', actorDid: manifest.author, ownerDid: manifest.author });
      }
      // A caller that was already told DEADLINE_EXCEEDED or CANCELLED must not find the package registered.
      ctx.signal.throwIfAborted();
      return { row, inserted };
    });
    if (outcome.inserted) {
      ctx.logger.info({ packageId, name: manifest.name, version: manifest.version, author: manifest.author }, 'package registered');
    }
    await this.keepArtifact(outcome.row, manifest, location, ctx);
    return { row: outcome.row, alreadyRegistered: !outcome.inserted };
  }

  /**
   * The registry keeps what it registers: after a registration commits, and
   * on every idempotent re-registration, the registry makes sure its own
   * content-store manifest referencing the artifact exists (created by the
   * registry's did:key, so only it or a content operator can delete it), so
   * the sweeper keeps the bytes whoever uploaded them. Registering again
   * restores a deleted one, and checks again that the store holds the
   * artifact (FAILED_PRECONDITION ARTIFACT_NOT_FOUND when it no longer does).
   * Artifacts elsewhere (https URLs) are not the store's to keep.
   */
  private async keepArtifact(row: PackageRecord, manifest: ValidManifest, location: ArtifactLocation, ctx: RegisterContext): Promise<void> {
    if (!location.inContentStore) return;
    const kept = await this.deps.artifacts.keepArtifact(manifest.artifact.sha256, manifest.artifact.size, row.packageId, ctx.outgoingMetadata);
    if (!kept.alreadyExisted) ctx.logger.info({ packageId: row.packageId, contentManifestId: kept.manifestId }, 'artifact kept in the content store');
  }

  /**
   * A package by id. This replica keeps the packages it read: nothing of a
   * package but its yank state ever changes, and that is read afresh for
   * every call, in a batched query ({@link YankChecks}), so a yank or unyank
   * committed through any replica is answered by every call that begins
   * after it. A changed state makes a new record; records are never changed
   * in place.
   * @throws INVALID_ARGUMENT (MISSING_FIELD or INVALID_SHA256 on package_id), NOT_FOUND PACKAGE_NOT_FOUND.
   */
  async get(packageIdValue: string): Promise<PackageRecord> {
    const packageId = requireSha256('package_id', packageIdValue);
    const cached = this.cache.get(packageId);
    if (!cached) {
      const row = await this.find(packageId);
      this.cache.set(packageId, row);
      return row;
    }
    const state = await this.yankChecks.state(packageId);
    if (!state) {
      this.cache.delete(packageId);
      throw packageNotFound(packageId);
    }
    if (state.yanked === cached.yanked && state.yankReason === cached.yankReason) return cached;
    const row: PackageRecord = { ...cached, yanked: state.yanked, yankReason: state.yankReason };
    this.cache.set(packageId, row);
    return row;
  }

  /**
   * One page of packages matching the filters, newest first; yanked ones only when asked.
   * @throws INVALID_ARGUMENT for bad filters, page size or page token.
   */
  async list(input: ListInput): Promise<{ rows: PackageRecord[]; nextPageToken: string }> {
    const pageSize = resolvePageSize(input.pageSize, PACKAGE_PAGE_SIZE);
    const filters: PackageFilters = {
      authorDid: input.authorDid || undefined,
      name: input.name || undefined,
      version: input.version || undefined,
      nodeClass: input.nodeClass || undefined,
      contains: input.manifestContains && Object.keys(input.manifestContains).length > 0 ? input.manifestContains : undefined,
      includeYanked: input.includeYanked || undefined,
    };
    for (const [field, value] of [['author_did', filters.authorDid], ['name', filters.name], ['version', filters.version], ['node_class', filters.nodeClass]] as const) {
      // PostgreSQL text cannot hold NUL; such a filter is malformed, not merely unmatched.
      if (value !== undefined) requireNoNul(field, requireMaxLength(field, value, 255));
    }
    const shape = filters.contains && jsonShapeProblem(filters.contains);
    if (shape) throw invalidField('manifest_contains', shape.kind === 'TOO_DEEP' ? 'FILTER_TOO_DEEP' : 'INVALID_CHARACTER', shape.description);
    if (filters.contains && Buffer.byteLength(JSON.stringify(filters.contains)) > this.deps.maxManifestBytes) {
      throw invalidField('manifest_contains', 'FILTER_TOO_LARGE', `is larger than the manifest limit of ${this.deps.maxManifestBytes} bytes`);
    }
    const query = { kind: 'packages', ...filters };
    const after = readKeysetCursor(this.deps.pageTokens.decode<unknown>(input.pageToken, query), PACKAGE_KEYSET);
    const listed = await this.packages.list(filters, pageSize, after);
    // A page ends early (with a next token) rather than pass REGISTRY_MAX_LIST_PAGE_BYTES; it always holds one package.
    const maxBytes = this.deps.maxListPageBytes ?? Infinity;
    let bytes = 0;
    let end = 0;
    while (end < listed.rows.length) {
      bytes += cachedPackageBytes(listed.rows[end]!);
      if (end > 0 && bytes > maxBytes) break;
      end += 1;
    }
    const rows = listed.rows.slice(0, end);
    const more = listed.more || end < listed.rows.length;
    const last = rows[rows.length - 1];
    return {
      rows,
      nextPageToken: more && last ? this.deps.pageTokens.encode(query, { t: last.createdAtMicros, id: last.packageId } satisfies PackageCursor) : '',
    };
  }

  /**
   * A package and its dependencies in install order (dependencies first),
   * ranges resolved to versions that are not yanked.
   * @throws INVALID_ARGUMENT (MISSING_FIELD or INVALID_SHA256 on package_id), NOT_FOUND PACKAGE_NOT_FOUND,
   *   FAILED_PRECONDITION DEPENDENCY_NOT_FOUND / DEPENDENCY_CYCLE.
   */
  async resolve(packageIdValue: string): Promise<PackageRecord[]> {
    const root = await this.find(requireSha256('package_id', packageIdValue));
    return installOrder(this.packages, root);
  }

  /**
   * Yanks a version; yanking it again with the same reason changes nothing,
   * with another reason replaces the reason. Audited.
   * @throws INVALID_ARGUMENT (package id, reason), NOT_FOUND PACKAGE_NOT_FOUND, PERMISSION_DENIED NOT_A_PACKAGE_OWNER.
   */
  async yank(caller: string, packageIdValue: string, reasonValue: string): Promise<PackageRecord> {
    const packageId = requireSha256('package_id', packageIdValue);
    const reason = requireMaxLength('reason', requireNoNul('reason', reasonValue), MAX_YANK_REASON);
    return this.changeYank(caller, packageId, 'yank', async (row, packages, owners, name) => {
      if (row.yanked && row.yankReason === reason) return row;
      const updated = (await packages.setYanked(packageId, true, reason))!;
      await owners.appendAudit({ name, action: 'VERSION_YANKED', actorDid: caller, packageId, reason });
      return updated;
    });
  }

  /**
   * Makes a yanked version resolvable again; unyanking one that is not
   * yanked changes nothing. Audited.
   * @throws INVALID_ARGUMENT, NOT_FOUND PACKAGE_NOT_FOUND, PERMISSION_DENIED NOT_A_PACKAGE_OWNER,
   *   ALREADY_EXISTS VERSION_EXISTS (another unyanked package holds that name@version).
   */
  async unyank(caller: string, packageIdValue: string): Promise<PackageRecord> {
    const packageId = requireSha256('package_id', packageIdValue);
    return this.changeYank(caller, packageId, 'unyank', async (row, packages, owners, name) => {
      if (!row.yanked) return row;
      const { version } = resolvable(row);
      const holder = (await packages.findByNameVersion(name, version)).find((p) => p.packageId !== packageId && !p.yanked);
      if (holder) throw versionExists(name, version, holder.packageId, `unyank ${packageId}`);
      const updated = (await packages.setYanked(packageId, false, null))!;
      await owners.appendAudit({ name, action: 'VERSION_UNYANKED', actorDid: caller, packageId });
      return updated;
    });
  }

  /** Runs a yank change in a transaction holding the name's lock, after the owner check; then drops the cached package. */
  private async changeYank(
    caller: string,
    packageId: string,
    verb: 'yank' | 'unyank',
    change: (row: PackageRecord, packages: PackagesRepository, owners: PackageOwnersRepository, name: string) => Promise<PackageRecord>,
  ): Promise<PackageRecord> {
    const { name, version } = resolvable(await this.find(packageId));
    try {
      return await this.deps.db.transaction(async (trx) => {
        const packages = new PackagesRepository(trx);
        const owners = new PackageOwnersRepository(trx);
        await owners.lockName(name);
        requireOwner(caller, name, await owners.owners(name), `${verb} ${name}@${version}`);
        const row = await packages.findById(packageId, { lock: true });
        if (!row) throw packageNotFound(packageId);
        return change(row, packages, owners, name);
      });
    } finally {
      this.cache.delete(packageId);
    }
  }

  private async find(packageId: string): Promise<PackageRecord> {
    const row = await this.packages.findById(packageId);
    if (!row) throw packageNotFound(packageId);
    return row;
  }
}

/** NOT_FOUND for a package id that is not registered. */
function packageNotFound(packageId: string): GriotError {
  return notFound('Package', packageId, `package ${packageId} is not registered`);
}

/**
 * A package and its dependencies in install order, dependencies first: each
 * range resolves to the highest version that is not yanked; the root is
 * taken as it is, yanked or not.
 * @throws FAILED_PRECONDITION DEPENDENCY_NOT_FOUND / DEPENDENCY_CYCLE.
 */
export async function installOrder(packages: PackagesRepository, root: PackageRecord): Promise<PackageRecord[]> {
  const rows = new Map<string, PackageRecord>([[root.packageId, root]]);
  const order = await resolveInstallOrder(resolvable(root), async (name) => {
    const found = await packages.findByName(name);
    for (const row of found) rows.set(row.packageId, row);
    return found.map(resolvable);
  });
  return order.map((p) => rows.get(p.packageId)!);
}

/** Dependency resolution's view of a stored package (stored manifests were validated at registration). */
export function resolvable(row: PackageRecord): ResolvablePackage {
  const m = row.manifest as { name: string; version: string; dependencies?: Record<string, string> };
  return { packageId: row.packageId, name: m.name, version: m.version, dependencies: m.dependencies ?? {}, yanked: row.yanked };
}

/**
 * The owner and version rules of a new package: the name is unowned or its
 * author owns it, and no other package holds its name@version (yanked ones
 * included: a version is registered once).
 */
async function checkPublishable(packages: PackagesRepository, owners: PackageOwnersRepository, manifest: ValidManifest, packageId: string): Promise<void> {
  const current = await owners.owners(manifest.name);
  if (current.length > 0) requireOwner(manifest.author, manifest.name, current, `publish ${manifest.name}@${manifest.version}`);
  const holder = (await packages.findByNameVersion(manifest.name, manifest.version)).find((p) => p.packageId !== packageId);
  if (holder) throw versionExists(manifest.name, manifest.version, holder.packageId, `register ${packageId} as ${manifest.name}@${manifest.version}`);
}

/** ALREADY_EXISTS VERSION_EXISTS naming the package that holds name@version (metadata `packageId`). */
function versionExists(name: string, version: string, holderId: string, action: string): GriotError {
  return new GriotError(
    Code.ALREADY_EXISTS,
    'VERSION_EXISTS',
    `cannot ${action}: ${name}@${version} is already registered as package ${holderId}; a version is registered once, publish a new version instead`,
    { metadata: { name, version, packageId: holderId }, resource: { type: 'Package', name: holderId } },
  );
}

/**
 * Passes when `candidate` is the registered package again.
 * @throws ALREADY_EXISTS PACKAGE_ALREADY_EXISTS when the id is registered with another manifest or artifact URL.
 */
function requireSame(existing: PackageRecord, candidate: NewPackageRecord): void {
  // Each signature has its own `created` time, so the same manifest signed again (its proof already
  // verified) is the same package: compare manifests without their proofs.
  const sameManifest = stableJson(withoutProof(existing.manifest)) === stableJson(withoutProof(candidate.manifest));
  if (sameManifest && existing.artifactUrl === candidate.artifactUrl) return;
  throw alreadyExists(
    'Package',
    candidate.packageId,
    existing.artifactUrl !== candidate.artifactUrl && sameManifest
      ? `package ${candidate.packageId} is already registered with artifact_url ${existing.artifactUrl}, not ${shorten(candidate.artifactUrl)}`
      : `package ${candidate.packageId} is already registered with a different manifest; packages are immutable`,
  );
}

function withoutProof(manifest: Record<string, unknown>): Record<string, unknown> {
  const { proof: _proof, ...rest } = manifest;
  return rest;
}

