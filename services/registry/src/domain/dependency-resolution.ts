/**
 * Dependency resolution: each dependency goes to the highest registered
 * version satisfying its range that is not yanked, and the packages come out
 * in install order (dependencies first, the package last). The root is taken
 * as given, yanked or not (an install by exact package id). Missing
 * dependencies and cycles are FAILED_PRECONDITION errors that name the
 * packages.
 */
import { failedPrecondition } from '@griot/server-kit';
import semver from 'semver';

/** What resolution needs to know of a package. */
export interface ResolvablePackage {
  /** The package id. */
  packageId: string;
  /** Its name. */
  name: string;
  /** Its version. */
  version: string;
  /** Dependency name → range. */
  dependencies: Record<string, string>;
  /** Whether it is yanked: ranges do not resolve to it. */
  yanked?: boolean;
}

/** Answers every registered version of a package name. */
export type VersionLookup = (name: string) => Promise<ResolvablePackage[]>;

/**
 * Resolves a package's dependencies into an install order.
 * @returns The packages, dependencies first, `root` last; each once.
 * @throws FAILED_PRECONDITION DEPENDENCY_NOT_FOUND or DEPENDENCY_CYCLE.
 */
export async function resolveInstallOrder(root: ResolvablePackage, lookup: VersionLookup): Promise<ResolvablePackage[]> {
  const versionsByName = new Map<string, ResolvablePackage[]>();
  const versionsOf = async (name: string) => {
    let versions = versionsByName.get(name);
    if (!versions) {
      versions = await lookup(name);
      versionsByName.set(name, versions);
    }
    return versions;
  };
  const order: ResolvablePackage[] = [];
  const done = new Set<string>();
  const path: ResolvablePackage[] = [];

  const visit = async (pkg: ResolvablePackage): Promise<void> => {
    if (done.has(pkg.packageId)) return;
    const onPath = path.findIndex((p) => p.packageId === pkg.packageId);
    if (onPath >= 0) {
      const cycle = [...path.slice(onPath), pkg].map(label).join(' → ');
      throw failedPrecondition('DEPENDENCY_CYCLE', `dependencies form a cycle: ${cycle}`, { cycle });
    }
    path.push(pkg);
    for (const [name, range] of Object.entries(pkg.dependencies).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const registered = await versionsOf(name);
      const candidates = registered.filter((c) => !c.yanked);
      const best = semver.maxSatisfying(candidates.map((c) => c.version), range);
      if (best === null) {
        const known = [...new Set(registered.map((c) => c.version))].sort(semver.compare);
        const yanked = new Set(known.filter((v) => !candidates.some((c) => c.version === v)));
        throw failedPrecondition(
          'DEPENDENCY_NOT_FOUND',
          `${name}@${range} required by ${label(pkg)} is not registered` +
            (known.length > 0
              ? ` (registered versions of ${name}: ${known.map((v) => (yanked.has(v) ? `${v} (yanked)` : v)).join(', ')})`
              : ` (no version of ${name} is registered)`),
          { dependency: name, range, requiredBy: label(pkg) },
        );
      }
      // Only one unyanked registration of a name@version can exist (a unique index); take the first deterministically anyway.
      await visit(candidates.find((c) => c.version === best)!);
    }
    path.pop();
    done.add(pkg.packageId);
    order.push(pkg);
  };
  await visit(root);
  return order;
}

function label(pkg: ResolvablePackage): string {
  return `${pkg.name}@${pkg.version}`;
}
