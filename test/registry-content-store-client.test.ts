/**
 * The registry's client of the content store (on @griot/client) against a
 * real content store, on PostgreSQL and PGlite: each answer becomes the
 * registry's own typed error — a missing artifact and one of another size
 * FAILED_PRECONDITION, a store that cannot be reached UNAVAILABLE naming its
 * address, a store that refuses the registry's identity
 * CONTENT_STORE_REFUSED — and keeping an artifact is idempotent.
 */
import { randomBytes } from 'node:crypto';
import { credentials, Metadata } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { contentStoreChecker, type ArtifactChecker } from '@griot/registry';
import { GriotError } from '@griot/server-kit';
import { bytesOf, sha256, startTestContentStore, type TestContentStore } from '@griot/test/support/content-store';
import { DB_KINDS } from '@griot/test/support/database';
import { CONTENT_AUDIENCE, newIdentity, uploadBytes } from '@griot/test/support/fixtures';

async function refusal(promise: Promise<unknown>): Promise<GriotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GriotError)) throw new Error(`expected a GriotError, got ${String(err)}`);
  return err;
}

describe.each(DB_KINDS)("the registry's content-store client on %s", (kind) => {
  const registryIdentity = newIdentity();
  const registryKey = { ...registryIdentity.keyPair, did: registryIdentity.did };
  const uploader = newIdentity();
  let store: TestContentStore;
  let checker: ArtifactChecker;
  let artifact: Buffer;
  let digest: string;
  beforeAll(async () => {
    store = await startTestContentStore(kind);
    checker = contentStoreChecker(store.service.address, 5_000, { keyPair: registryKey, audience: CONTENT_AUDIENCE });
    artifact = bytesOf(10_000, 7);
    const uploadClient = new content.ContentServiceClient(store.service.address, credentials.createInsecure());
    try {
      digest = await uploadBytes(uploadClient, artifact, uploader);
    } finally {
      uploadClient.close();
    }
    expect(digest).toBe(sha256(artifact));
  });
  afterAll(async () => {
    checker?.close();
    await store?.close();
  });

  it('confirms a held artifact, and refuses a missing one and one of another size', async () => {
    await expect(checker.checkArtifact(digest, artifact.length, new Metadata())).resolves.toBeUndefined();
    const missing = await refusal(checker.checkArtifact(randomBytes(32).toString('hex'), 10, new Metadata()));
    expect({ code: missing.code, reason: missing.reason }).toEqual({ code: 9, reason: 'ARTIFACT_NOT_FOUND' });
    const size = await refusal(checker.checkArtifact(digest, artifact.length + 1, new Metadata()));
    expect({ code: size.code, reason: size.reason, metadata: size.metadata }).toEqual({
      code: 9,
      reason: 'ARTIFACT_SIZE_MISMATCH',
      metadata: { sha256: digest, manifestSize: String(artifact.length + 1), storedSize: String(artifact.length) },
    });
  });

  it('keeps an artifact once: the second time the manifest already exists', async () => {
    const packageId = digest;
    const first = await checker.keepArtifact(digest, artifact.length, packageId, new Metadata());
    const second = await checker.keepArtifact(digest, artifact.length, packageId, new Metadata());
    expect(first.alreadyExisted).toBe(false);
    expect(second).toEqual({ manifestId: first.manifestId, alreadyExisted: true });
  });

  it('answers UNAVAILABLE naming the address when the store cannot be reached', async () => {
    const nowhere = contentStoreChecker('127.0.0.1:1', 2_000, { keyPair: registryKey, audience: CONTENT_AUDIENCE });
    try {
      const err = await refusal(nowhere.checkArtifact(digest, artifact.length, new Metadata()));
      expect({ code: err.code, reason: err.reason }).toEqual({ code: 14, reason: 'CONTENT_STORE_UNAVAILABLE' });
      expect(err.message).toMatch(/^the content store at 127\.0\.0\.1:1 could not confirm artifact sha256:[0-9a-f]{64}: it answered UNAVAILABLE/);
    } finally {
      nowhere.close();
    }
  });

  it("says so when the store refuses the registry's identity", async () => {
    const stranger = contentStoreChecker(store.service.address, 5_000, { keyPair: registryKey, audience: 'not-the-content-store' });
    try {
      const err = await refusal(stranger.keepArtifact(digest, artifact.length, digest, new Metadata()));
      expect({ code: err.code, reason: err.reason }).toEqual({ code: 9, reason: 'CONTENT_STORE_REFUSED' });
      expect(err.message).toContain(registryIdentity.did);
    } finally {
      stranger.close();
    }
  });
});
