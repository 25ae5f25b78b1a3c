/**
 * The client against the real services, started in process: publishing,
 * listing and reading back (whole and ranged), uploading a stream; refusals decoded into
 * GriotClientError; an upload cut mid-way that resumes from the committed
 * offset; a job's log followed across a dropped connection; mutual TLS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { makeTestCertificates, type TestCertificates } from '@griot/test/support/certificates';
import { DB_KINDS } from '@griot/test/support/database';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';
import { startTcpProxy, type TcpProxy } from '@griot/test/support/tcp-proxy';
import { GriotClientError, PackageError } from './errors';
import { GriotClient } from './griot-client';
import { packDirectory } from './pack';
import { generateIdentity } from './tokens';

const kind = DB_KINDS[0]!;

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

describe(`the client against the services (${kind})`, () => {
  let contentStore: StartedService;
  let registryService: StartedService;
  let work: string;
  const author = generateIdentity();
  let client: GriotClient;

  beforeAll(async () => {
    contentStore = await startTestContentStore(kind);
    registryService = await startTestRegistry(kind, contentStore.address);
    work = mkdtempSync(join(tmpdir(), 'griot-client-'));
    client = new GriotClient({ registry: registryService.address, content: contentStore.address, identity: author, retry: { initialBackoffMs: 10 } });
  });
  afterAll(async () => {
    client?.close();
    await registryService?.stop();
    await contentStore?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  function packageDir(name: string, version: string, extra: Record<string, unknown> = {}): string {
    const dir = join(work, `${name}-${version}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'griot.json'), JSON.stringify({ name, version, nodeClass: 'edge', ...extra }));
    writeFileSync(join(dir, 'run.sh'), `echo ${name} ${version}\n`);
    return dir;
  }

  it('publishes a folder, lists it, reads it back whole and by range, and republishes it as already registered', async () => {
    const published = await client.publish({ dir: packageDir('hello', '1.0.0') });
    expect(published).toMatchObject({ name: 'hello', version: '1.0.0', author: author.did, alreadyRegistered: false, dryRun: false });
    expect(published.upload).toMatchObject({ deduplicated: false, resumedFrom: 0, sentBytes: published.size, attempts: 1 });
    const listed = await client.registry.listPackages({ name: 'hello' });
    expect(listed.packages.map((p) => p.packageId)).toEqual([published.packageId]);

    const whole = await collect(client.content.download(published.packageId));
    expect(whole.length).toBe(published.size);
    expect(createHash('sha256').update(whole).digest('hex')).toBe(published.packageId);
    expect(await collect(client.content.download(published.packageId, { offset: 10, limit: 20 }))).toEqual(whole.subarray(10, 30));

    const again = await client.publish({ dir: packageDir('hello', '1.0.0') });
    expect(again).toMatchObject({ packageId: published.packageId, alreadyRegistered: true, contentManifestId: published.contentManifestId });
  });

  it('publishes an already packed tarball with the descriptor given beside it', async () => {
    const tarball = join(work, 'packed.tgz');
    const packedDir = await packDirectory(packageDir('packed', '3.1.0'), tarball);
    const published = await client.publish({ tarball, name: 'packed', version: '3.1.0', nodeClass: 'edge', dependencies: { hello: '^1.0.0' } });
    expect(published).toMatchObject({ packageId: packedDir.packageId, size: packedDir.size, alreadyRegistered: false });
    const { package: pkg } = await client.registry.getPackage({ packageId: published.packageId });
    expect(pkg?.manifest).toMatchObject({ name: 'packed', version: '3.1.0', dependencies: { hello: '^1.0.0' }, author: author.did });
    await expect(client.publish({ tarball, name: 'packed', version: 'x' })).rejects.toBeInstanceOf(PackageError);
  });

  it('refuses a package folder the registry would refuse, before sending anything', async () => {
    const err = (await client.publish({ dir: packageDir('bad', '2.0') }).catch((e: unknown) => e)) as PackageError;
    expect(err).toBeInstanceOf(PackageError);
    expect(err.message).toMatch(/"version" "2\.0" is not a semantic version/);
    expect(err.violations.map((v) => v.field)).toEqual(['version']);
    expect((await client.registry.listPackages({ name: 'bad' })).packages).toEqual([]);
  });

  it('decodes refusals: the code, the ErrorInfo reason and metadata, and the field violations', async () => {
    const missing = (await client.registry.getPackage({ packageId: 'f'.repeat(64) }).catch((e: unknown) => e)) as GriotClientError;
    expect(missing).toBeInstanceOf(GriotClientError);
    expect(missing).toMatchObject({ code: status.NOT_FOUND, codeName: 'NOT_FOUND', service: 'registry', address: registryService.address });

    const published = await client.publish({ dir: packageDir('owned', '1.0.0') });
    const stranger = generateIdentity();
    const denied = (await client.registry.yankPackage({ packageId: published.packageId, reason: 'not mine' }, { identity: stranger }).catch((e: unknown) => e)) as GriotClientError;
    expect(denied).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'NOT_A_PACKAGE_OWNER' });
    expect(denied.metadata['name']).toBe('owned');

    const invalid = (await client.registry.listPackages({ pageSize: -1 }).catch((e: unknown) => e)) as GriotClientError;
    expect(invalid).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(invalid.violations).toEqual([expect.objectContaining({ field: 'page_size' })]);
  });

  it('uploads a stream and reads it back through readContent', async () => {
    const bytes = randomBytes(1000);
    const up = await client.content.uploadStream(Readable.from([bytes]));
    expect(up.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    await expect(collect(client.content.readContent({ target: { $case: 'blob', blob: { sha256: up.sha256, storageName: '' } } }))).resolves.toEqual(bytes);
  });

  it('checks a stream against the digest and size it was given', async () => {
    await expect(client.content.uploadStream(Readable.from([Buffer.from('abc')]), { size: 4 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'the stream held 3 bytes, not 4' });
  });

  describe('through a proxy that cuts connections', () => {
    let proxy: TcpProxy;
    let cut: GriotClient;
    beforeAll(async () => {
      proxy = await startTcpProxy(contentStore.address);
    });
    afterAll(async () => {
      cut?.close();
      await proxy?.close();
    });

    it('resumes an upload cut mid-way from the committed offset', async () => {
      cut = new GriotClient({ registry: registryService.address, content: proxy.address, identity: author, retry: { initialBackoffMs: 10 } });
      const file = join(work, 'big.bin');
      const bytes = randomBytes(12 * 1024 * 1024);
      writeFileSync(file, bytes);
      let cuts = 0;
      const outcome = await cut.content.uploadFile(file, {
        chunkBytes: 256 * 1024,
        onProgress: (done) => {
          if (cuts === 0 && done >= 8 * 1024 * 1024) {
            cuts += 1;
            proxy.cutAll();
          }
        },
      });
      expect(cuts).toBe(1);
      expect(outcome.attempts).toBeGreaterThan(1);
      expect(outcome.resumedFrom).toBeGreaterThan(0);
      expect(outcome.sentBytes).toBe(bytes.length - outcome.resumedFrom);
      expect(outcome.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      // Compared by digest: a failed comparison of megabytes would make a diff of megabytes.
      const back = await collect(client.content.download(outcome.sha256));
      expect(createHash('sha256').update(back).digest('hex')).toBe(outcome.sha256);
    });
  });

  it('follows a job across a dropped connection, each line once, to its final status', async () => {
    const node = generateIdentity();
    const published = await client.publish({ dir: packageDir('followed', '1.0.0') });
    const job = (await client.registry.createInstallation({ packageId: published.packageId, targetNodeId: node.did }, { identity: node })).installation!;
    const proxy = await startTcpProxy(registryService.address);
    const follower = new GriotClient({ registry: proxy.address, identity: node });
    try {
      const claimed = await client.registry.claimInstallation({ waitMillis: 5000 }, { identity: node });
      expect(claimed.installation?.jobId).toBe(job.jobId);
      const { callerMetadata } = await import('./tokens');
      let settle!: (err: unknown) => void;
      const reported = new Promise((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve(undefined))));
      const report = client.registry.raw.reportInstallation(callerMetadata(node, client.registry.site.audience), (err) => settle(err));
      report.write({ jobId: job.jobId, logLines: ['one', 'two', 'three'], status: 0, statusMessage: '' });

      const events: Array<{ kind: string; index?: number; line?: string; statusName?: string; lineCount?: number }> = [];
      for await (const event of follower.registry.followInstallation(job.jobId)) {
        events.push(event);
        if (event.kind === 'line' && event.index === 2) {
          proxy.cutAll();
          report.write({ jobId: job.jobId, logLines: ['four', 'five'], status: 0, statusMessage: '' });
          report.write({ jobId: job.jobId, logLines: [], status: registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED, statusMessage: 'done' });
          report.end();
        }
      }
      await reported;
      expect(events).toEqual([
        { kind: 'line', index: 0, line: 'one' },
        { kind: 'line', index: 1, line: 'two' },
        { kind: 'line', index: 2, line: 'three' },
        { kind: 'line', index: 3, line: 'four' },
        { kind: 'line', index: 4, line: 'five' },
        { kind: 'end', status: registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED, statusName: 'completed', statusMessage: 'done', lineCount: 5 },
      ]);
      expect(proxy.connectionCount).toBeGreaterThan(1);
    } finally {
      follower.close();
      await proxy.close();
    }
  });
});

describe(`the client over mutual TLS (${kind})`, () => {
  let contentStore: StartedService;
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = makeTestCertificates();
    contentStore = await startTestContentStore(kind, { CONTENT_TLS_CERT: certs.serverCert, CONTENT_TLS_KEY: certs.serverKey, CONTENT_TLS_CLIENT_CA: certs.caCert });
  });
  afterAll(async () => {
    await contentStore?.stop();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('uploads and downloads with a client certificate, and is refused without one', async () => {
    // By host name: the certificate names localhost.
    const address = contentStore.address.replace('127.0.0.1', 'localhost');
    const tls = { ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
    const client = new GriotClient({ content: address, tls, identity: generateIdentity() });
    const noCert = new GriotClient({ content: address, tls: { ca: tls.ca }, retry: { maxAttempts: 1 } });
    try {
      const bytes = randomBytes(3000);
      const up = await client.content.uploadStream(Readable.from([bytes]));
      expect(await collect(client.content.download(up.sha256))).toEqual(bytes);
      await expect(noCert.content.getBlob({ sha256: up.sha256 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      client.close();
      noCert.close();
    }
  });
});
