/**
 * UploadBlobClient, the copy-free UploadBlob client, against real servers: a
 * GriotServer decoding with the generated codecs (what any gRPC server
 * reads), statuses with their google.rpc details, an early answer, deadline,
 * cancel, a refused connection, a server that is not gRPC, and TLS.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { UploadBlobClient, type UploadBlobCall } from '@griot/transport';
import { decodeStatusDetails } from '@griot/client';
import { defineService, GriotError, GriotServer, invalidField, serverCredentials, silentLogger, type CallContext } from '@griot/server-kit';
import { makeTestCertificates, type TestCertificates } from '@griot/test/support/certificates';

type Handler = (requests: AsyncIterable<content.UploadBlobRequest>, ctx: CallContext) => Promise<content.UploadBlobResponse>;

const RESPONSE: content.UploadBlobResponse = { uploadId: 'u-1', committedSize: 0, complete: true, deduplicated: false, blob: undefined };

let handler: Handler;
let server: GriotServer;
let address: string;

function startGriotServer(credentials?: ReturnType<typeof serverCredentials>): Promise<{ server: GriotServer; address: string }> {
  const s = new GriotServer({
    logger: silentLogger(),
    domain: 'test.griot.dev',
    // The generated service definition: the server decodes what the client sent as any gRPC server would.
    services: [defineService('griot.content.v1.ContentService', content.ContentServiceService, { uploadBlob: (requests, ctx) => handler(requests, ctx) })],
    credentials,
  });
  return s.listen('127.0.0.1:0').then((port) => ({ server: s, address: `127.0.0.1:${port}` }));
}

beforeAll(async () => {
  ({ server, address } = await startGriotServer());
});
afterAll(() => server.shutdown(500));

/** Runs one call: `drive` writes; resolves with the outcome. */
function call(
  client: UploadBlobClient,
  drive: (call: UploadBlobCall) => void | Promise<void>,
  options: { metadata?: Metadata; deadline?: Date } = {},
): Promise<{ err: ServiceError | null; res?: content.UploadBlobResponse }> {
  return new Promise((resolve, reject) => {
    const c = client.uploadBlob(options.metadata, { deadline: options.deadline }, (err, res) => resolve({ err, res }));
    Promise.resolve(drive(c)).catch(reject);
  });
}

async function collect(requests: AsyncIterable<content.UploadBlobRequest>): Promise<content.UploadBlobRequest[]> {
  const all: content.UploadBlobRequest[] = [];
  for await (const r of requests) all.push({ ...r, data: Buffer.from(r.data) });
  return all;
}

describe('UploadBlobClient', () => {
  it('sends every field of every message as the generated codecs read them, and returns the response', async () => {
    let seen: content.UploadBlobRequest[] = [];
    let seenAuth: unknown;
    handler = async (requests, ctx) => {
      seenAuth = ctx.metadata.get('authorization')[0];
      seen = await collect(requests);
      return { ...RESPONSE, committedSize: seen.reduce((n, m) => n + m.data.length, 0) };
    };
    const chunks = [randomBytes(1024 * 1024), randomBytes(70_001), Buffer.alloc(0)];
    const start = { uploadId: '0b8f7c52-3a4e-4c36-9a55-6f2f4d6c8e11', storageName: 'griot.file@v1', sha256: 'ab'.repeat(32), size: 1024 * 1024 + 70_001 };
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer t0ken');
    const client = new UploadBlobClient(address);
    try {
      const { err, res } = await call(
        client,
        async (c) => {
          let offset = 0;
          for (const [i, data] of chunks.entries()) {
            if (!c.write({ start: i === 0 ? start : undefined, offset, data, finishWrite: i === chunks.length - 1 })) await new Promise((r) => c.once('drain', r));
            offset += data.length;
          }
          c.end();
        },
        { metadata },
      );
      expect(err).toBeNull();
      expect(res).toEqual({ ...RESPONSE, committedSize: 1024 * 1024 + 70_001 });
      expect(seenAuth).toBe('Bearer t0ken');
      expect(seen).toHaveLength(3);
      expect(seen[0]).toEqual({ start, offset: 0, data: chunks[0], finishWrite: false });
      expect(seen[1]).toEqual({ start: undefined, offset: 1024 * 1024, data: chunks[1], finishWrite: false });
      expect(seen[2]).toEqual({ start: undefined, offset: 1024 * 1024 + 70_001, data: Buffer.alloc(0), finishWrite: true });

      // The connection is reused: a second call on the same client works too.
      handler = async (requests) => ({ ...RESPONSE, committedSize: (await collect(requests)).length });
      const again = await call(client, (c) => {
        c.write({ start, offset: 0, data: Buffer.from('x'), finishWrite: true });
        c.end();
      });
      expect(again.res?.committedSize).toBe(1);
    } finally {
      client.close();
    }
  });

  it('fails with the status, message and google.rpc details the server sent', async () => {
    handler = async (requests) => {
      for await (const _ of requests) throw invalidField('start.sha256', 'INVALID_DIGEST', 'is not 64 hexadecimal characters');
      throw new Error('unreachable');
    };
    const client = new UploadBlobClient(address);
    try {
      const { err } = await call(client, (c) => {
        c.write({ start: { uploadId: '', storageName: '', sha256: 'nope', size: undefined }, offset: 0, data: Buffer.alloc(0), finishWrite: true });
        c.end();
      });
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toBe('start.sha256: is not 64 hexadecimal characters');
      expect(err?.message).toBe('3 INVALID_ARGUMENT: start.sha256: is not 64 hexadecimal characters');
      const details = decodeStatusDetails(err!.metadata);
      expect(details.reason).toBe('INVALID_DIGEST');
      expect(details.violations).toEqual([{ field: 'start.sha256', description: 'is not 64 hexadecimal characters' }]);
      expect(err?.metadata.get('grpc-status')).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('answers as soon as the server does, drops later writes and wakes a writer waiting for drain', async () => {
    handler = async (requests) => {
      for await (const _ of requests) return { ...RESPONSE, deduplicated: true };
      throw new Error('unreachable');
    };
    const client = new UploadBlobClient(address);
    try {
      let writes = 0;
      let writesWhenAnswered = -1;
      const chunk = randomBytes(1024 * 1024);
      let c!: UploadBlobCall;
      const outcome = new Promise<{ err: ServiceError | null; res?: content.UploadBlobResponse }>((resolve) => {
        c = client.uploadBlob(undefined, undefined, (err, res) => {
          writesWhenAnswered = writes;
          resolve({ err, res });
        });
      });
      // Far more than the server's window: the writer is waiting for drain when the answer comes, and must be woken.
      for (let i = 0; i < 256 && writesWhenAnswered < 0; i++) {
        writes++;
        if (!c.write({ start: i === 0 ? { uploadId: '', storageName: '', sha256: '', size: undefined } : undefined, offset: i * chunk.length, data: chunk, finishWrite: false })) {
          await new Promise((r) => c.once('drain', r));
        }
      }
      // Writes after the answer are dropped.
      expect(c.write({ start: undefined, offset: 0, data: chunk, finishWrite: true })).toBe(true);
      c.end();
      const { err, res } = await outcome;
      expect(err).toBeNull();
      expect(res?.deduplicated).toBe(true);
      expect(writesWhenAnswered).toBeGreaterThan(0);
      expect(writesWhenAnswered).toBeLessThan(64);
    } finally {
      client.close();
    }
  });

  it('fails with DEADLINE_EXCEEDED at the deadline, and the server sees it pass', async () => {
    let serverSaw: unknown;
    handler = (requests, ctx) =>
      new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          serverSaw = ctx.deadline;
          reject(new GriotError(status.CANCELLED, 'GONE', 'gone'));
        });
      });
    const client = new UploadBlobClient(address);
    try {
      const started = Date.now();
      const { err } = await call(client, (c) => void c.write({ start: { uploadId: '', storageName: '', sha256: '', size: undefined }, offset: 0, data: Buffer.from('x'), finishWrite: false }), {
        deadline: new Date(Date.now() + 300),
      });
      expect(err?.code).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      await new Promise((r) => setTimeout(r, 200));
      expect(serverSaw).toBeInstanceOf(Date);
    } finally {
      client.close();
    }
  });

  it('cancel() ends the call with CANCELLED and cancels it on the server', async () => {
    let cancelled!: () => void;
    const serverCancelled = new Promise<void>((r) => (cancelled = r));
    handler = (requests, ctx) =>
      new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          cancelled();
          reject(new GriotError(status.CANCELLED, 'GONE', 'gone'));
        });
      });
    const client = new UploadBlobClient(address);
    try {
      const { err } = await call(client, (c) => {
        c.write({ start: { uploadId: '', storageName: '', sha256: '', size: undefined }, offset: 0, data: Buffer.from('x'), finishWrite: false });
        setTimeout(() => c.cancel(), 100);
      });
      expect(err?.code).toBe(status.CANCELLED);
      expect(err?.details).toBe('Cancelled on client');
      await serverCancelled;
    } finally {
      client.close();
    }
  });

  it('fails with UNAVAILABLE naming the cause when nothing listens, and connects again once something does', async () => {
    const client = new UploadBlobClient('127.0.0.1:1');
    try {
      const { err } = await call(client, (c) => c.end());
      expect(err?.code).toBe(status.UNAVAILABLE);
      expect(err?.details).toMatch(/ECONNREFUSED 127\.0\.0\.1:1/);
      // A failed connection is not kept: the next call connects again (and fails again, here).
      const second = await call(client, (c) => c.end());
      expect(second.err?.code).toBe(status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it('maps an HTTP/2 server that does not speak gRPC to a status from its HTTP answer', async () => {
    const plain: Http2Server = createServer((req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>not here</h1>');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const client = new UploadBlobClient(`127.0.0.1:${(plain.address() as AddressInfo).port}`);
    try {
      const { err } = await call(client, (c) => c.end());
      expect(err?.code).toBe(status.UNIMPLEMENTED);
      expect(err?.details).toBe('the server answered HTTP 404 (text/html), not gRPC');
    } finally {
      client.close();
      await new Promise((r) => plain.close(r));
    }
  });

  describe('over TLS', () => {
    let certs: TestCertificates;
    let tlsServer: GriotServer;
    let tlsAddress: string;
    const f = (path: string, variable: string) => ({ path, variable });
    beforeAll(async () => {
      certs = makeTestCertificates();
      ({ server: tlsServer, address: tlsAddress } = await startGriotServer(
        serverCredentials(
          { cert: f(certs.serverCert, 'X_CERT'), key: f(certs.serverKey, 'X_KEY'), clientCa: f(certs.caCert, 'X_CLIENT_CA') },
          { cert: 'X_CERT', key: 'X_KEY', clientCa: 'X_CLIENT_CA' },
        ),
      ));
    });
    afterAll(async () => {
      await tlsServer.shutdown(500);
      rmSync(certs.dir, { recursive: true, force: true });
    });

    it('uploads with mutual TLS, and is refused without a client certificate or with another CA', async () => {
      const { readFileSync } = await import('node:fs');
      handler = async (requests) => ({ ...RESPONSE, committedSize: (await collect(requests)).length });
      const send = (c: UploadBlobCall) => {
        c.write({ start: { uploadId: '', storageName: '', sha256: '', size: undefined }, offset: 0, data: Buffer.from('x'), finishWrite: true });
        c.end();
      };
      const ca = readFileSync(certs.caCert);
      const mutual = new UploadBlobClient(tlsAddress, { tls: { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } });
      const noCert = new UploadBlobClient(tlsAddress, { tls: { ca } });
      const otherCa = new UploadBlobClient(tlsAddress, { tls: { ca: readFileSync(certs.otherCaCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } });
      try {
        expect((await call(mutual, send)).res?.committedSize).toBe(1);
        const refused = await call(noCert, send);
        expect(refused.res).toBeUndefined();
        expect(refused.err?.code).toBe(status.UNAVAILABLE);
        const untrusted = await call(otherCa, send);
        expect(untrusted.err?.code).toBe(status.UNAVAILABLE);
        expect(untrusted.err?.details).toMatch(/certificate/i);
      } finally {
        for (const c of [mutual, noCert, otherCa]) c.close();
      }
    });
  });
});
