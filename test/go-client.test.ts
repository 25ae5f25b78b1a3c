/**
 * A Go client, with stubs generated from proto/ at test time (Debian's protoc,
 * protoc-gen-go and protoc-gen-go-grpc) into a temporary GOPATH and built
 * offline in GOPATH mode against Debian's Go packages, uploads a blob with a
 * cut and a resume, reads it back whole and as a range, and lists the
 * packages its author signed; it signs its own caller tokens from the
 * author's seed.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { content } from '@griot/proto';
import { connect, newIdentity, publishTestPackage, unary } from '@griot/test/support/fixtures';
import { REPO_ROOT } from '@griot/test/support/process';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';
import { describeIf, tool } from '@griot/test/support/tools';

const run = promisify(execFile);

/** The Go import paths the stubs get (the .proto files name no go_package). */
const GO_PACKAGES = {
  'griot/content/v1/content_service.proto': 'griotpb/content/v1;contentv1',
  'griot/registry/v1/registry_service.proto': 'griotpb/registry/v1;registryv1',
};

/**
 * The build's environment: GOPATH mode, the generated stubs first and then
 * Debian's sources, no network, no cgo (no C compiler needed). The build
 * cache lives in the system's temp folder across runs, so only the first
 * run compiles gRPC.
 */
function goEnv(gopath: string): NodeJS.ProcessEnv {
  const cache = join(tmpdir(), 'griot-go-build-cache');
  mkdirSync(cache, { recursive: true });
  return {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${gopath}:/usr/share/gocode`,
    GOCACHE: cache,
    GOENV: 'off',
    GOFLAGS: '',
    GOPROXY: 'off',
    CGO_ENABLED: '0',
  };
}

/** Generates the Go stubs of both services into `gopath`/src and builds test/go into `binary`. */
async function buildClient(gopath: string, binary: string): Promise<void> {
  const mappings = Object.entries(GO_PACKAGES).flatMap(([file, pkg]) => [`--go_opt=M${file}=${pkg}`, `--go-grpc_opt=M${file}=${pkg}`]);
  const src = join(gopath, 'src');
  mkdirSync(src, { recursive: true });
  await run('protoc', [`-I${join(REPO_ROOT, 'proto')}`, '-I/usr/include', `--go_out=${src}`, `--go-grpc_out=${src}`, ...mappings, ...Object.keys(GO_PACKAGES)]);
  await run('go', ['build', '-o', binary, '.'], { cwd: join(__dirname, 'go'), env: goEnv(gopath) });
}

/** What the Go program prints. */
interface GoResult {
  author_did: string;
  upload: {
    upload_id: string;
    size: number;
    sha256: string;
    closed_at: number;
    sent_before_cancel: number;
    resumed_from: number;
    resume_attempts: number;
    complete: boolean;
    committed_size: number;
    blob_sha256: string;
    blob_size: number;
  };
  read: GoRead;
  range: GoRead;
  packages: { package_id: string; name: string; version: string; author_did: string }[];
}

/** One read the Go program made. */
interface GoRead {
  offset: number;
  limit: number;
  size: number;
  total_size: number;
  first_offset: number;
  messages: number;
  sha256: string;
  matches: boolean;
}

describeIf([tool('protoc'), tool('go-grpc')])('a Go client', () => {
  let contentStore: StartedService;
  let registryService: StartedService;
  let gopath: string;
  let binary: string;

  beforeAll(async () => {
    gopath = mkdtempSync(join(tmpdir(), 'griot-go-'));
    binary = join(gopath, 'griot-go-client');
    await buildClient(gopath, binary);
    // The store makes received bytes durable every 64 KiB, so a cut stream leaves a committed offset to resume from.
    contentStore = await startTestContentStore('pglite', { CONTENT_UPLOAD_SYNC_BYTES: '64KiB' });
    registryService = await startTestRegistry('pglite', contentStore.address);
  }, 300_000);
  afterAll(async () => {
    await registryService?.stop();
    await contentStore?.stop();
    rmSync(gopath, { recursive: true, force: true });
  });

  it('uploads with a cut and a resume, reads a range and the whole, and lists packages', async () => {
    const clients = connect({ content: contentStore.address, registry: registryService.address });
    const author = newIdentity();
    const pkg = await publishTestPackage(clients, author, { name: 'hello-go', version: '1.2.3' });
    // Another author's package, which the Go client's author filter leaves out.
    await publishTestPackage(clients, newIdentity(), { name: 'other', version: '1.0.0' });

    const go = spawn(binary, [], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        GRIOT_CONTENT_ADDR: contentStore.address,
        GRIOT_REGISTRY_ADDR: registryService.address,
        // Its own tokens, from the author's seed: the README's token format, written in Go.
        GRIOT_AUTHOR_SEED: Buffer.from(author.keyPair.privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex'),
      },
    });
    let stdout = '';
    let stderr = '';
    go.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    go.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exitCode = await new Promise<number | null>((resolve) => go.on('exit', resolve));
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const result = JSON.parse(stdout) as GoResult;

    // Its did:key, from the seed, is the author's.
    expect(result.author_did).toBe(author.did);

    const { upload } = result;
    // The first stream closed without finish_write: the server kept every byte it got.
    expect(upload.closed_at).toBe(Math.floor(upload.size / 4));
    // The second was cancelled mid-way: the resume started past the first cut, within what was sent, before the end.
    expect(upload.resumed_from).toBeGreaterThan(upload.closed_at);
    expect(upload.resumed_from).toBeLessThanOrEqual(upload.sent_before_cancel);
    expect(upload.resumed_from).toBeLessThan(upload.size);
    expect(upload).toMatchObject({ complete: true, committed_size: upload.size, blob_sha256: upload.sha256, blob_size: upload.size });
    // The store holds the blob under the digest the Go client computed.
    const blob = await unary<content.GetBlobRequest, content.GetBlobResponse>(clients.content.getBlob.bind(clients.content), { sha256: upload.sha256, storageName: '' });
    expect(blob.blob).toMatchObject({ sha256: upload.sha256, size: upload.size });

    expect(result.read).toMatchObject({ offset: 0, size: upload.size, total_size: upload.size, first_offset: 0, sha256: upload.sha256, matches: true });
    expect(result.range).toMatchObject({ offset: 1000, limit: 5000, size: 5000, first_offset: 1000, matches: true });

    expect(result.packages).toEqual([{ package_id: pkg.packageId, name: 'hello-go', version: '1.2.3', author_did: author.did }]);
    clients.close();
  });
});
