/**
 * The content store as a real process: SIGTERM in the middle of an upload
 * lets the upload finish and the process exit 0; a bad configuration value
 * exits non-zero with one line naming the variable.
 *
 * The upload test waits for conditions, never for time, so a loaded machine
 * only makes it slower: SIGTERM is sent once the store has committed the
 * upload's first bytes (the stream is open and being served), and the rest
 * is sent once the client's connection was told to go away (shutdown began).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { connectivityState, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { bytesOf, sha256, unary, uploadMessages } from '@griot/test/support/content-store';
import { callerInterceptor, CONTENT_AUDIENCE, newIdentity } from '@griot/test/support/fixtures';

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'services/content-store/src/main.ts');

function startProcess(env: Record<string, string>): { child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolvePromise) => child.on('exit', (code) => resolvePromise({ code, stderr })));
  return { child, exited };
}

function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'content store listening' && entry.address) resolvePromise(entry.address);
      } catch {
        // Not a JSON log line.
      }
    });
    child.on('exit', (code) => reject(new Error(`the content store exited with ${code} before listening`)));
  });
}

/** Resolves once `check` answers true, asking again as soon as the last answer came. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Resolves once the client's channel leaves READY: the server sent GOAWAY, its shutdown began. */
function channelLeftReady(client: content.ContentServiceClient): Promise<void> {
  const channel = client.getChannel();
  return new Promise((resolvePromise, reject) => {
    const watch = (): void => {
      const state = channel.getConnectivityState(false);
      if (state !== connectivityState.READY) return resolvePromise();
      channel.watchConnectivityState(state, Date.now() + 30_000, (err) => (err ? reject(err) : watch()));
    };
    watch();
  });
}

describe('content store process', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'griot-content-proc-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('finishes an upload in flight after SIGTERM, then exits 0', async () => {
    // Bytes are committed (and the upload's size recorded) every 256 KiB, so the first ones are seen early.
    // The embedded database is pinned: this test is about the upload, not about which embedded database stops.
    const { child, exited } = startProcess({ CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: dataDir, CONTENT_UPLOAD_SYNC_BYTES: '256KiB', GRIOT_EMBEDDED_DATABASE: 'pglite' });
    const address = await listeningAddress(child);
    const client = new content.ContentServiceClient(address, credentials.createInsecure(), { interceptors: [callerInterceptor(newIdentity(), CONTENT_AUDIENCE)] });
    const data = bytesOf(2 * 1024 * 1024, 61);
    const uploadId = randomUUID();
    const messages = uploadMessages(data, { uploadId, sha256: sha256(data), size: data.length }, { chunk: 256 * 1024 });
    let answer: content.UploadBlobResponse | undefined;
    const done = new Promise<void>((resolvePromise, reject) => {
      const call = client.uploadBlob((err, res) => (err ? reject(err) : ((answer = res), resolvePromise())));
      void (async () => {
        for (const m of messages.slice(0, 4)) call.write(m);
        await until('the store committed the upload\'s first bytes', async () => {
          try {
            return (await unary(client, 'getUploadStatus', { uploadId })).committedSize > 0;
          } catch (err) {
            if ((err as ServiceError).code === status.NOT_FOUND) return false;
            throw err;
          }
        });
        const goingAway = channelLeftReady(client);
        child.kill('SIGTERM');
        await goingAway;
        for (const m of messages.slice(4)) call.write(m);
        call.end();
      })().catch(reject);
    });
    await done;
    expect(answer).toMatchObject({ complete: true, committedSize: data.length, blob: { sha256: sha256(data) } });
    client.close();
    expect((await exited).code).toBe(0);
  }, 60_000);

  it('exits non-zero with one line naming the variable when the configuration is bad', async () => {
    const { exited } = startProcess({ CONTENT_LISTEN: 'nonsense', GRIOT_DATA_DIR: dataDir });
    const { code, stderr } = await exited;
    expect(code).not.toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/CONTENT_LISTEN: "nonsense" is not host:port/);
  }, 30_000);

  it('names CONTENT_MAX_CHUNK_BYTES when it is not a size', async () => {
    const { exited } = startProcess({ CONTENT_MAX_CHUNK_BYTES: 'lots', GRIOT_DATA_DIR: dataDir });
    const { code, stderr } = await exited;
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/CONTENT_MAX_CHUNK_BYTES: "lots" is not a size/)]);
  }, 30_000);
});
