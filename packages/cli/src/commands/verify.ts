/**
 * `griot verify NAME@VERSION|PACKAGE_ID`: downloads a package's artifact,
 * checks its digest and size against the manifest and the manifest's
 * signature against its author, locally, and says who signed it.
 */
import { createHash } from 'node:crypto';
import { verifyDocument } from '@griot/did';
import { CONTENT_AUDIENCE, readContent } from '../blob-transfer';
import { CliError, ExitCode } from '../cli-error';
import type { Command } from '../command';
import { callerKeyPath, callerMetadata, loadKey } from '../key-files';
import { findPackage, packageLabel } from '../package-ref';

/** The verify command. */
export const verifyCommand: Command = {
  name: 'verify',
  usage: 'verify NAME@VERSION|PACKAGE_ID [--key FILE]',
  summary: "download a package's artifact and check its digest and its manifest's signature locally; prints who signed it, exits 1 on a mismatch",
  options: { key: { type: 'string', short: 'k' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const pkg = await findPackage(ctx, ctx.args[0]!, { includeYanked: true });
    const label = packageLabel(pkg);
    const manifest = (pkg.manifest ?? {}) as Record<string, unknown>;
    const author = manifest['author'];
    if (typeof author !== 'string') throw new CliError(`${label}: the manifest names no author`);
    let verified;
    try {
      verified = verifyDocument(manifest, { expectedController: author });
    } catch (err: unknown) {
      throw new CliError(`${label}: the manifest's signature does not verify: ${(err as Error).message}`, ExitCode.FAILURE, { cause: err });
    }
    const artifact = (manifest['artifact'] ?? {}) as Record<string, unknown>;
    const digest = String(artifact['digest'] ?? '');
    const size = Number(artifact['size']);
    if (digest !== `sha256:${pkg.packageId}`) throw new CliError(`${label}: the manifest's artifact digest ${digest} is not the package id sha256:${pkg.packageId}`);
    // A key only for a content store that wants a token even to read (CONTENT_REQUIRE_READ_AUTH).
    const keyPath = callerKeyPath(ctx);
    const metadata = keyPath ? callerMetadata(await loadKey(keyPath.path, 'caller'), CONTENT_AUDIENCE) : undefined;
    const hash = createHash('sha256');
    let received = 0;
    await readContent(
      ctx.clients.content(),
      ctx.clients.contentEndpoint,
      { target: { $case: 'blob', blob: { sha256: pkg.packageId, storageName: '' } }, offset: 0, limit: 0 },
      (chunk) => {
        received += chunk.length;
        if (received > size) throw new CliError(`${label}: the content store sent more than the ${size} bytes of the artifact`);
        hash.update(chunk);
      },
      metadata,
    );
    const actual = hash.digest('hex');
    if (received !== size) throw new CliError(`${label}: the artifact is ${received} bytes, the manifest says ${size}`);
    if (actual !== pkg.packageId) throw new CliError(`${label}: the artifact's digest is sha256:${actual}, the manifest says ${digest}`);
    ctx.result(
      {
        verified: true,
        name: manifest['name'],
        version: manifest['version'],
        packageId: pkg.packageId,
        digest,
        size,
        signer: author,
        verificationMethod: verified.proof.verificationMethod,
        created: verified.proof.created ?? null,
        yanked: pkg.yanked,
      },
      () => [
        `Verification for ${label} --`,
        'The following checks were performed locally:',
        `  - the artifact's sha256 digest is ${digest} (${size} bytes), as the manifest says`,
        "  - the manifest's eddsa-jcs-2022 signature verifies against its author's did:key",
        `signed by: ${author}`,
        ...(pkg.yanked ? [`warning: ${label} is yanked${pkg.yankReason ? ` (${pkg.yankReason})` : ''}`] : []),
      ],
    );
  },
};
