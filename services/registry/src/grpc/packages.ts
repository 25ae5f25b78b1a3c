/**
 * RegistryService package methods: RegisterPackage, GetPackage, ListPackages
 * and ResolveDependencies.
 */
import { registry } from '@griot/proto';
import {
  alreadyExists,
  decodePageToken,
  encodePageToken,
  invalidArgument,
  invalidField,
  notFound,
  resolvePageSize,
  stableJson,
  type ServiceHandlers,
} from '@griot/server-kit';
import type { ArtifactChecker } from '../clients/content-store-client';
import { resolveArtifactUrl } from '../domain/artifact-url';
import { resolveInstallOrder, type ResolvablePackage } from '../domain/dependency-resolution';
import { requirePackageId, shorten } from '../domain/identifiers';
import { LruCache } from '../domain/lru-cache';
import { jsonShapeProblem, validateManifest } from '../domain/manifest';
import type { PackageCursor, PackageFilters, PackageRow, PackagesRepository } from '../repository/packages-repository';
import { packageToProto } from './convert';

type Handlers = ServiceHandlers<typeof registry.RegistryServiceService>;

/** What the package methods need. */
export interface PackageHandlerDeps {
  /** The packages table. */
  packages: PackagesRepository;
  /** The content store check. */
  artifacts: ArtifactChecker;
  /** Largest manifest, in JSON bytes. */
  maxManifestBytes: number;
  /** How many packages GetPackage keeps in memory. */
  cacheSize: number;
}

/** Page sizes of ListPackages. */
export const PACKAGE_PAGE_SIZE = { defaultSize: 50, maxSize: 500 };

/** The package methods. */
export function packageHandlers(deps: PackageHandlerDeps): Handlers {
  const { packages } = deps;
  // Packages are immutable once registered, so a cached answer never goes stale.
  const cache = new LruCache<string, registry.GetPackageResponse>(deps.cacheSize);

  return {
    async registerPackage(request, ctx) {
      const packageId = requirePackageId(request.packageId);
      const manifest = validateManifest(request.manifest, { maxBytes: deps.maxManifestBytes });
      if (manifest.artifact.sha256 !== packageId) {
        throw invalidArgument(
          'PACKAGE_ID_MISMATCH',
          `package_id ${packageId} is not the artifact digest of the manifest (${manifest.artifact.digest}); the package id is the SHA-256 of the artifact`,
          [{ field: 'package_id', description: `must equal the hex of manifest.artifact.digest (${manifest.artifact.sha256})` }],
        );
      }
      const location = resolveArtifactUrl(request.artifactUrl, packageId);
      const candidate = {
        packageId,
        manifest: manifest.document,
        artifactUrl: location.url,
        authorDid: manifest.author,
        signature: manifest.proofValue,
      };
      const existing = await packages.findById(packageId);
      if (existing) return sameOrConflict(existing, candidate);
      if (location.inContentStore) await deps.artifacts.checkArtifact(packageId, manifest.artifact.size, ctx.outgoingMetadata());
      // A caller that was already told DEADLINE_EXCEEDED or CANCELLED must not find the package registered.
      ctx.signal.throwIfAborted();
      const { row, inserted } = await packages.insert(candidate);
      if (!inserted) return sameOrConflict(row, candidate);
      ctx.logger.info({ packageId, name: manifest.name, version: manifest.version, author: manifest.author }, 'package registered');
      return { package: packageToProto(row), alreadyRegistered: false };
    },

    async getPackage(request) {
      const packageId = requirePackageId(request.packageId);
      const cached = cache.get(packageId);
      if (cached) return cached;
      const row = await packages.findById(packageId);
      if (!row) throw notFound('Package', packageId, `package ${packageId} is not registered`);
      const response = { package: packageToProto(row) };
      cache.set(packageId, response);
      return response;
    },

    async listPackages(request) {
      const pageSize = resolvePageSize(request.pageSize, PACKAGE_PAGE_SIZE);
      const filters: PackageFilters = {
        authorDid: request.authorDid || undefined,
        name: request.name || undefined,
        version: request.version || undefined,
        nodeClass: request.nodeClass || undefined,
        contains: request.manifestContains && Object.keys(request.manifestContains).length > 0 ? request.manifestContains : undefined,
      };
      for (const [field, value] of [['author_did', filters.authorDid], ['name', filters.name], ['version', filters.version], ['node_class', filters.nodeClass]] as const) {
        if (value !== undefined && value.length > 255) throw invalidField(field, 'FILTER_TOO_LONG', `is ${value.length} characters long, at most 255 allowed`);
        // PostgreSQL text cannot hold NUL; such a filter is malformed, not merely unmatched.
        if (value?.includes('\u0000')) throw invalidField(field, 'INVALID_CHARACTER', 'contains a NUL character');
      }
      const shape = filters.contains && jsonShapeProblem(filters.contains);
      if (shape) throw invalidField('manifest_contains', shape.kind === 'TOO_DEEP' ? 'FILTER_TOO_DEEP' : 'INVALID_CHARACTER', shape.description);
      if (filters.contains && Buffer.byteLength(JSON.stringify(filters.contains)) > deps.maxManifestBytes) {
        throw invalidField('manifest_contains', 'FILTER_TOO_LARGE', `is larger than the manifest limit of ${deps.maxManifestBytes} bytes`);
      }
      const query = { kind: 'packages', ...filters };
      const after = readCursor(decodePageToken<unknown>(request.pageToken, query));
      const { rows, more } = await packages.list(filters, pageSize, after);
      const last = rows[rows.length - 1];
      return {
        packages: rows.map(packageToProto),
        nextPageToken: more && last ? encodePageToken(query, { t: last.createdAtMicros, id: last.packageId } satisfies PackageCursor) : '',
      };
    },

    async resolveDependencies(request) {
      const packageId = requirePackageId(request.packageId);
      const root = await packages.findById(packageId);
      if (!root) throw notFound('Package', packageId, `package ${packageId} is not registered`);
      const rows = new Map<string, PackageRow>([[root.packageId, root]]);
      const order = await resolveInstallOrder(resolvable(root), async (name) => {
        const found = await packages.findByName(name);
        for (const row of found) rows.set(row.packageId, row);
        return found.map(resolvable);
      });
      return { packages: order.map((p) => packageToProto(rows.get(p.packageId)!)) };
    },
  };
}

/** Dependency resolution's view of a stored package (stored manifests were validated at registration). */
export function resolvable(row: PackageRow): ResolvablePackage {
  const m = row.manifest as { name: string; version: string; dependencies?: Record<string, string> };
  return { packageId: row.packageId, name: m.name, version: m.version, dependencies: m.dependencies ?? {} };
}

function sameOrConflict(
  existing: PackageRow,
  candidate: { packageId: string; manifest: Record<string, unknown>; artifactUrl: string },
): registry.RegisterPackageResponse {
  // Each signature has its own `created` time, so the same manifest signed again (its proof already
  // verified) is the same package: compare manifests without their proofs.
  const sameManifest = stableJson(withoutProof(existing.manifest)) === stableJson(withoutProof(candidate.manifest));
  if (sameManifest && existing.artifactUrl === candidate.artifactUrl) {
    return { package: packageToProto(existing), alreadyRegistered: true };
  }
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

function readCursor(raw: unknown): PackageCursor | undefined {
  if (raw === undefined) return undefined;
  const c = raw as Partial<PackageCursor>;
  if (typeof c.t !== 'string' || !/^-?\d{1,20}$/.test(c.t) || typeof c.id !== 'string' || !/^[0-9a-f]{64}$/.test(c.id)) {
    throw invalidField('page_token', 'INVALID_PAGE_TOKEN', 'is not a page token issued by this service');
  }
  return { t: c.t, id: c.id };
}
