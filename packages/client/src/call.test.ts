/**
 * Deadlines, retries and tokens, against a fake registry: reads that fail
 * UNAVAILABLE are retried with a fresh token each time, writes never are,
 * refusals are not, and a call that gets no answer ends at its deadline.
 */
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { verifyCallerToken } from '@griot/did';
import { registry } from '@griot/proto';
import { backoffDelay, DEFAULT_RETRY_POLICY } from './call';
import { GriotClientError } from './errors';
import { GriotClient } from './griot-client';
import { generateIdentity, REGISTRY_AUDIENCE } from './tokens';

/** A registry whose methods answer from a script, recording each call's token. */
async function startFakeRegistry(script: Record<string, Array<{ code: status; details: string } | object | 'hang'>>) {
  const calls: Array<{ method: string; authorization: string }> = [];
  const impl: UntypedServiceImplementation = {};
  for (const [method, answers] of Object.entries(script)) {
    impl[method] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      calls.push({ method, authorization: String(call.metadata.get('authorization')[0] ?? '') });
      const answer = answers.shift() ?? { code: status.INTERNAL, details: 'no more answers' };
      if (answer === 'hang') return;
      if ('code' in answer) callback(answer as { code: status; details: string });
      else callback(null, answer);
    };
  }
  const server = new Server();
  server.addService(registry.RegistryServiceService, impl);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `127.0.0.1:${port}`, calls, stop: () => server.forceShutdown() };
}

const unavailable = { code: status.UNAVAILABLE, details: 'try again' };
const fast = { initialBackoffMs: 1, maxBackoffMs: 2 };

describe('calls', () => {
  const identity = generateIdentity();
  let fake: Awaited<ReturnType<typeof startFakeRegistry>>;
  let client: GriotClient;
  afterEach(async () => {
    client.close();
    fake.stop();
  });

  it('retries a read that fails UNAVAILABLE, with a fresh token per attempt', async () => {
    fake = await startFakeRegistry({ getPackage: [unavailable, unavailable, { package: { packageId: 'a'.repeat(64) } }] });
    client = new GriotClient({ registry: fake.address, identity, retry: fast });
    const res = await client.registry.getPackage({ packageId: 'a'.repeat(64) });
    expect(res.package?.packageId).toBe('a'.repeat(64));
    expect(fake.calls).toHaveLength(3);
    const tokens = fake.calls.map((c) => c.authorization.replace(/^Bearer /, ''));
    expect(new Set(tokens).size).toBe(3);
    for (const token of tokens) expect(verifyCallerToken(token, { audience: REGISTRY_AUDIENCE }).did).toBe(identity.did);
  });

  it('gives up after the policy attempts, with the last error', async () => {
    fake = await startFakeRegistry({ listPackages: [unavailable, unavailable, unavailable] });
    client = new GriotClient({ registry: fake.address, retry: { ...fast, maxAttempts: 3 } });
    const err = (await client.registry.listPackages().catch((e: unknown) => e)) as GriotClientError;
    expect(err).toBeInstanceOf(GriotClientError);
    expect(err).toMatchObject({ code: status.UNAVAILABLE, codeName: 'UNAVAILABLE', details: 'try again', service: 'registry', address: fake.address });
    expect(fake.calls).toHaveLength(3);
    expect(fake.calls[0]!.authorization).toBe(''); // no identity: no token
  });

  it('never retries a write, nor a refusal', async () => {
    fake = await startFakeRegistry({ registerPackage: [unavailable, {}], getPackage: [{ code: status.NOT_FOUND, details: 'no such package' }, {}] });
    client = new GriotClient({ registry: fake.address, identity, retry: fast });
    await expect(client.registry.registerPackage({ packageId: 'b'.repeat(64) })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(client.registry.getPackage({ packageId: 'b'.repeat(64) })).rejects.toMatchObject({ code: status.NOT_FOUND, details: 'no such package' });
    expect(fake.calls.map((c) => c.method)).toEqual(['registerPackage', 'getPackage']);
  });

  it('ends a call without an answer at its deadline, overridable per call', async () => {
    fake = await startFakeRegistry({ getInstallation: ['hang'] });
    client = new GriotClient({ registry: fake.address, deadlineMs: 60_000, retry: { maxAttempts: 1 } });
    await expect(client.registry.getInstallation({ jobId: 'x' }, { deadlineMs: 100 })).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
  });

  it('cancels a call through its signal, without retrying it', async () => {
    fake = await startFakeRegistry({ getPackage: ['hang', {}] });
    client = new GriotClient({ registry: fake.address });
    const abort = new AbortController();
    const pending = client.registry.getPackage({ packageId: 'c'.repeat(64) }, { signal: abort.signal });
    await waitFor(() => fake.calls.length === 1);
    abort.abort();
    await expect(pending).rejects.toMatchObject({ code: status.CANCELLED });
    expect(fake.calls).toHaveLength(1);
  });

  it('sends no token for a call made with identity null', async () => {
    fake = await startFakeRegistry({ getPackage: [{}] });
    client = new GriotClient({ registry: fake.address, identity });
    await client.registry.getPackage({ packageId: 'd'.repeat(64) }, { identity: null });
    expect(fake.calls[0]!.authorization).toBe('');
  });
});

describe('backoffDelay', () => {
  it('draws up to a ceiling that grows by the multiplier and stops at the maximum', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, initialBackoffMs: 100, maxBackoffMs: 1000, backoffMultiplier: 2 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(policy, 3, 0)).toBe(0);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}
