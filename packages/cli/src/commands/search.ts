/**
 * `griot search` and `griot show`: finding packages in the registry.
 */
import type { registry } from '@griot/proto';
import { usageError } from '../cli-error';
import type { Command } from '../command';
import { unary } from '../grpc-call';
import { findPackage, packageLabel } from '../package-ref';

/** A package as printed with --json: the manifest plus the registry's fields. */
export function packageJson(pkg: registry.Package): Record<string, unknown> {
  return {
    packageId: pkg.packageId,
    authorDid: pkg.authorDid,
    artifactUrl: pkg.artifactUrl,
    signature: pkg.signature,
    createdAt: pkg.createdAt?.toISOString() ?? null,
    yanked: pkg.yanked,
    yankReason: pkg.yankReason,
    manifest: pkg.manifest ?? {},
  };
}

function parseWhere(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err: unknown) {
    throw usageError(`--where is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError('--where must be a JSON object, such as {"nodeClass":"edge"}');
  return value as Record<string, unknown>;
}

/** The search command. */
export const searchCommand: Command = {
  name: 'search',
  usage: 'search [--name N] [--version V] [--author DID] [--class C] [--where JSON] [--limit N] [--yanked]',
  summary: 'list registered packages matching the filters, newest first (--yanked: yanked versions too)',
  options: {
    name: { type: 'string' },
    version: { type: 'string' },
    author: { type: 'string' },
    class: { type: 'string' },
    where: { type: 'string' },
    limit: { type: 'string' },
    yanked: { type: 'boolean' },
  },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const limit = Number(ctx.string('limit') ?? '100');
    if (!Number.isInteger(limit) || limit <= 0) throw usageError('--limit must be a positive integer');
    const client = ctx.clients.registry();
    const found: registry.Package[] = [];
    let pageToken = '';
    do {
      const req: registry.ListPackagesRequest = {
        authorDid: ctx.string('author') ?? '',
        name: ctx.string('name') ?? '',
        version: ctx.string('version') ?? '',
        nodeClass: ctx.string('class') ?? '',
        manifestContains: parseWhere(ctx.string('where')),
        includeYanked: ctx.options['yanked'] === true,
        pageSize: Math.min(limit - found.length, 100),
        pageToken,
      };
      const res = await unary<registry.ListPackagesResponse>(ctx.clients.registryEndpoint, (md, o, cb) => client.listPackages(req, md, o, cb));
      found.push(...res.packages);
      pageToken = res.nextPageToken;
    } while (pageToken !== '' && found.length < limit);
    const packages = found.slice(0, limit);
    ctx.result({ packages: packages.map(packageJson) }, () => {
      if (packages.length === 0) return 'no package matches';
      const rows = packages.map((p) => {
        const m = (p.manifest ?? {}) as Record<string, unknown>;
        return [`${packageLabel(p)}${p.yanked ? ' (yanked)' : ''}`, String(m['nodeClass'] ?? ''), p.packageId.slice(0, 12), p.authorDid];
      });
      const header = ['PACKAGE', 'CLASS', 'ID', 'AUTHOR'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    });
  },
};

/** The show command. */
export const showCommand: Command = {
  name: 'show',
  usage: 'show NAME@VERSION|PACKAGE_ID',
  summary: 'print a package, its manifest and its dependencies',
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx) {
    const pkg = await findPackage(ctx, ctx.args[0]!, { includeYanked: true });
    ctx.result(packageJson(pkg), () => {
      const m = (pkg.manifest ?? {}) as Record<string, unknown>;
      const artifact = (m['artifact'] ?? {}) as Record<string, unknown>;
      const deps = Object.entries((m['dependencies'] ?? {}) as Record<string, unknown>);
      return [
        packageLabel(pkg),
        `  package id:   ${pkg.packageId}`,
        `  node class:   ${String(m['nodeClass'] ?? '')}`,
        `  author:       ${pkg.authorDid}`,
        `  artifact:     ${pkg.artifactUrl || `griot-content://sha256/${pkg.packageId}`} (${String(artifact['size'] ?? '?')} bytes, ${String(artifact['mediaType'] ?? '')})`,
        `  registered:   ${pkg.createdAt?.toISOString() ?? ''}`,
        `  dependencies: ${deps.length === 0 ? 'none' : deps.map(([n, r]) => `${n} ${String(r)}`).join(', ')}`,
        ...(pkg.yanked ? [`  yanked:       ${pkg.yankReason || 'yes (no reason given)'}`] : []),
      ];
    });
  },
};
