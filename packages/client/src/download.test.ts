/**
 * Reads against a stub content client: a stream dropped after some bytes is
 * opened again after them (offset and limit moved on), a refusal is not
 * retried, and a whole download withholds its last chunk when the bytes do
 * not hash to the digest.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Metadata, status } from '@grpc/grpc-js';
import type { content } from '@griot/proto';
import { DEFAULT_RETRY_POLICY, type CallSite } from './call';
import { download, readContent } from './download';
import { GriotClientError } from './errors';

const site: CallSite = { service: 'content store', address: 'stub', audience: 'griot-content', deadlineMs: 1000, retry: { ...DEFAULT_RETRY_POLICY, initialBackoffMs: 1 } };

/** A raw client whose n-th ReadContent stream sends the n-th script: chunks, then an error code or the end. */
function stubContentClient(scripts: Array<{ chunks: string[]; fail?: status }>) {
  const requests: content.ReadContentRequest[] = [];
  const raw = {
    readContent(request: content.ReadContentRequest) {
      requests.push(request);
      const script = scripts.shift()!;
      const stream = new Readable({ objectMode: true, read() {} });
      for (const chunk of script.chunks) stream.push({ data: Buffer.from(chunk) });
      if (script.fail === undefined) stream.push(null);
      else setImmediate(() => stream.destroy(Object.assign(new Error('dropped'), { code: script.fail, details: 'dropped', metadata: new Metadata() })));
      return Object.assign(stream, { cancel: () => undefined });
    },
  };
  return { source: { site, raw: raw as unknown as content.ContentServiceClient }, requests };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk.toString();
  return out;
}

const blob = (sha256: string): content.ReadContentRequest['target'] => ({ $case: 'blob', blob: { sha256, storageName: '' } });

describe('readContent', () => {
  it('opens a dropped stream again after the bytes received, each byte once', async () => {
    const { source, requests } = stubContentClient([{ chunks: ['abc', 'de'], fail: status.UNAVAILABLE }, { chunks: ['fgh'] }]);
    expect(await collect(readContent(source, { target: blob('x'), offset: 10, limit: 8 }))).toBe('abcdefgh');
    expect(requests.map((r) => [r.offset, r.limit])).toEqual([
      [10, 8],
      [15, 3],
    ]);
  });

  it('does not retry a refusal, nor with retry false', async () => {
    const refused = stubContentClient([{ chunks: [], fail: status.PERMISSION_DENIED }]);
    await expect(collect(readContent(refused.source, { target: blob('x'), offset: 0, limit: 0 }))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const once = stubContentClient([{ chunks: ['a'], fail: status.UNAVAILABLE }, { chunks: ['b'] }]);
    await expect(collect(readContent(once.source, { target: blob('x'), offset: 0, limit: 0 }, { retry: false }))).rejects.toBeInstanceOf(GriotClientError);
    expect(once.requests).toHaveLength(1);
  });
});

describe('download', () => {
  it('gives a whole blob that hashes to its digest, across a dropped stream', async () => {
    const sha256 = createHash('sha256').update('hello world').digest('hex');
    const { source } = stubContentClient([{ chunks: ['hello'], fail: status.UNAVAILABLE }, { chunks: [' world'] }]);
    expect(await collect(download(source, sha256))).toBe('hello world');
  });

  it('withholds the last chunk of bytes that do not hash to the digest, failing with DATA_LOSS', async () => {
    const { source } = stubContentClient([{ chunks: ['first', 'last'] }]);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of download(source, 'f'.repeat(64))) seen.push(chunk.toString());
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.DATA_LOSS });
    expect(seen).toEqual(['first']);
  });
});
