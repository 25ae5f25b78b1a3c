/**
 * Installation jobs through the generated client, on PostgreSQL and PGlite:
 * create, claim, report, watch, cancel, lease expiry, node authentication and
 * bad input; and live watches across two replicas on one PostgreSQL database.
 */
import { Metadata } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { decodeStatusDetails } from '@griot/client';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import {
  call,
  eventually,
  failure,
  newIdentity,
  nodeMetadata,
  report,
  signedPackage,
  startTestRegistry,
  Status,
  stubContentStore,
  watchAll,
  type Identity,
  type TestRegistry,
} from './support/harness';

const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;
const S = registry.InstallationStatus;

async function publish(t: TestRegistry, author: Identity, name: string, version: string, dependencies: Record<string, string> = {}) {
  const pkg = signedPackage(author, { name, version, dependencies });
  t.store.blobs.set(pkg.packageId, pkg.size);
  await call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' });
  return pkg.packageId;
}

function createJob(t: TestRegistry, node: Identity, packageId: string) {
  return call(t.client, C.createInstallation, { packageId, targetNodeId: node.did }, nodeMetadata(node)).then((r) => r.installation!);
}

function claim(t: TestRegistry, node: Identity, waitMillis = 0) {
  return call(t.client, C.claimInstallation, { waitMillis }, nodeMetadata(node));
}

function getJob(t: TestRegistry, jobId: string) {
  return call(t.client, C.getInstallation, { jobId }, nodeMetadata(t.operator)).then((r) => r.installation!);
}

describe.each(DB_KINDS)('installations on %s', (kind) => {
  let t: TestRegistry;
  const author = newIdentity();
  let libId: string;
  let appId: string;
  beforeAll(async () => {
    // A lease no test outlives on a loaded machine: the tests of expiry have their own, short one (below).
    t = await startTestRegistry(kind, { env: { REGISTRY_LEASE_DURATION: '5m', REGISTRY_MAX_ATTEMPTS: '2' } });
    libId = await publish(t, author, 'lib', '1.0.0');
    appId = await publish(t, author, 'app', '1.0.0', { lib: '^1.0.0' });
  });
  afterAll(() => t.stop());

  it('creates a pending job with its install order, which its node claims, reports on and completes', async () => {
    const node = newIdentity();
    const job = await createJob(t, node, appId);
    expect(job).toMatchObject({ status: S.INSTALLATION_STATUS_PENDING, installOrder: [libId, appId], targetNodeId: node.did, attempts: 0 });
    const claimed = await claim(t, node);
    expect(claimed.installation).toMatchObject({ jobId: job.jobId, status: S.INSTALLATION_STATUS_RUNNING, attempts: 1 });
    expect(claimed.installation!.leaseExpireTime).toBeInstanceOf(Date);
    expect(claimed.installOrder.map((p) => p.packageId)).toEqual([libId, appId]);
    expect((await claim(t, node)).installation).toBeUndefined();

    const lines = Array.from({ length: 1200 }, (_, i) => `line ${i}`);
    const res = await report(t.client, nodeMetadata(node), [
      { jobId: job.jobId, logLines: lines.slice(0, 700) },
      { logLines: lines.slice(700) },
      { status: S.INSTALLATION_STATUS_COMPLETED, statusMessage: 'installed' },
    ]);
    expect(res.installation).toMatchObject({ status: S.INSTALLATION_STATUS_COMPLETED, logCount: 1200, statusMessage: 'installed' });
    const done = await getJob(t, job.jobId);
    expect(done.logs).toEqual(lines);
    expect(done.completedAt).toBeInstanceOf(Date);
    expect(done.leaseExpireTime).toBeUndefined();
  });

  it('wakes a waiting claim when a job is created', async () => {
    const node = newIdentity();
    const started = Date.now();
    const waiting = claim(t, node, 5000);
    await new Promise((r) => setTimeout(r, 150));
    const job = await createJob(t, node, libId);
    const claimed = await waiting;
    expect(claimed.installation?.jobId).toBe(job.jobId);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers an empty claim after the wait when there is no job', async () => {
    const started = Date.now();
    const res = await claim(t, newIdentity(), 200);
    expect(res.installation).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  it('streams a watch from line 0 and from line N, then the final status, and ends; a reconnect gets no gaps and no duplicates', async () => {
    const node = newIdentity();
    const job = await createJob(t, node, libId);
    await claim(t, node);
    const stream = t.client.reportInstallation(nodeMetadata(node), () => undefined);
    stream.write({ jobId: job.jobId, logLines: ['a0', 'a1', 'a2'], status: 0, statusMessage: '' });
    await eventually(async () => ((await getJob(t, job.jobId)).logCount === 3 ? true : undefined));

    const fromZero = watchAll(t.client, { jobId: job.jobId, fromLine: 0 }, nodeMetadata(t.operator));
    const fromTwo = watchAll(t.client, { jobId: job.jobId, fromLine: 2 }, nodeMetadata(t.operator));
    // A watcher that drops after its first message, then reconnects with its count.
    const firstPart = await new Promise<registry.WatchInstallationResponse>((resolve, reject) => {
      const s = t.client.watchInstallation({ jobId: job.jobId, fromLine: 0 }, nodeMetadata(node));
      s.once('data', (m: registry.WatchInstallationResponse) => {
        s.cancel();
        resolve(m);
      });
      s.on('error', (e: { code: number }) => (e.code === Status.CANCELLED ? undefined : reject(e)));
    });
    const live = Array.from({ length: 50 }, (_, i) => `b${i}`);
    for (let i = 0; i < live.length; i += 10) {
      stream.write({ jobId: '', logLines: live.slice(i, i + 10), status: 0, statusMessage: '' });
      await new Promise((r) => setTimeout(r, 10));
    }
    const resumed = watchAll(t.client, { jobId: job.jobId, fromLine: firstPart.firstLine + firstPart.lines.length }, nodeMetadata(t.operator));
    stream.write({ jobId: '', logLines: ['last'], status: S.INSTALLATION_STATUS_FAILED, statusMessage: 'disk full' });
    stream.end();

    const all = ['a0', 'a1', 'a2', ...live, 'last'];
    const joined = (ms: registry.WatchInstallationResponse[], from: number) => {
      let next = from;
      const out: string[] = [];
      for (const m of ms) {
        expect(m.firstLine).toBe(next);
        out.push(...m.lines);
        next += m.lines.length;
      }
      return out;
    };
    const zero = await fromZero;
    expect(joined(zero, 0)).toEqual(all);
    expect(zero[zero.length - 1]).toMatchObject({ status: S.INSTALLATION_STATUS_FAILED, statusMessage: 'disk full' });
    expect(zero.slice(0, -1).every((m) => m.status !== S.INSTALLATION_STATUS_FAILED)).toBe(true);
    expect(joined(await fromTwo, 2)).toEqual(all.slice(2));
    const resumedFrom = firstPart.firstLine + firstPart.lines.length;
    expect([...firstPart.lines, ...joined(await resumed, resumedFrom)]).toEqual(all);

    // A finished job's watch sends what is left and the final status at once.
    const after = await watchAll(t.client, { jobId: job.jobId, fromLine: all.length }, nodeMetadata(t.operator));
    expect(after).toEqual([{ firstLine: all.length, lines: [], status: S.INSTALLATION_STATUS_FAILED, statusMessage: 'disk full' }]);
  });

  it('cancels pending and running jobs; final states refuse every change', async () => {
    const node = newIdentity();
    const pending = await createJob(t, node, libId);
    const cancelled = await call(t.client, C.cancelInstallation, { jobId: pending.jobId, reason: 'not needed' }, nodeMetadata(node));
    expect(cancelled.installation).toMatchObject({ status: S.INSTALLATION_STATUS_CANCELLED, statusMessage: 'not needed' });
    expect(cancelled.installation!.completedAt).toBeInstanceOf(Date);

    const running = await createJob(t, node, libId);
    await claim(t, node);
    await call(t.client, C.cancelInstallation, { jobId: running.jobId, reason: '' }, nodeMetadata(node));
    expect((await getJob(t, running.jobId)).status).toBe(S.INSTALLATION_STATUS_CANCELLED);

    for (const jobId of [pending.jobId, running.jobId]) {
      const again = await failure(call(t.client, C.cancelInstallation, { jobId, reason: '' }, nodeMetadata(node)));
      expect({ code: again.code, reason: decodeStatusDetails(again.metadata).reason }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'JOB_FINAL' });
      const reported = await failure(report(t.client, nodeMetadata(node), [{ jobId, logLines: ['x'] }]));
      expect({ code: reported.code, reason: decodeStatusDetails(reported.metadata).reason }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'JOB_FINAL' });
    }
    expect((await getJob(t, running.jobId)).logs).toEqual([]);
  });

  it('refuses a report on a pending job, and a second final status', async () => {
    const node = newIdentity();
    const job = await createJob(t, node, libId);
    const early = await failure(report(t.client, nodeMetadata(node), [{ jobId: job.jobId, logLines: ['x'] }]));
    expect({ code: early.code, reason: decodeStatusDetails(early.metadata).reason }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'JOB_NOT_CLAIMED' });
    await claim(t, node);
    const twice = await failure(
      report(t.client, nodeMetadata(node), [
        { jobId: job.jobId, status: S.INSTALLATION_STATUS_COMPLETED },
        { status: S.INSTALLATION_STATUS_FAILED },
      ]),
    );
    expect({ code: twice.code, reason: decodeStatusDetails(twice.metadata).reason }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'JOB_FINAL' });
    expect((await getJob(t, job.jobId)).status).toBe(S.INSTALLATION_STATUS_COMPLETED);
  });

  it('lists jobs by status, node and package, paginated', async () => {
    const node = newIdentity();
    const a = await createJob(t, node, libId);
    const b = await createJob(t, node, appId);
    const c = await createJob(t, node, libId);
    await call(t.client, C.cancelInstallation, { jobId: a.jobId, reason: '' }, nodeMetadata(node));
    const list = (req: Partial<registry.ListInstallationsRequest>) =>
      call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({ targetNodeId: node.did, ...req }), nodeMetadata(node));
    const ids = (r: registry.ListInstallationsResponse) => r.installations.map((i) => i.jobId);
    expect(ids(await list({}))).toEqual([c.jobId, b.jobId, a.jobId]);
    expect(ids(await list({ status: S.INSTALLATION_STATUS_PENDING }))).toEqual([c.jobId, b.jobId]);
    expect(ids(await list({ packageId: libId }))).toEqual([c.jobId, a.jobId]);
    const first = await list({ pageSize: 2 });
    expect(ids(first)).toEqual([c.jobId, b.jobId]);
    const second = await list({ pageSize: 2, pageToken: first.nextPageToken });
    expect(ids(second)).toEqual([a.jobId]);
    expect(second.nextPageToken).toBe('');
    const mismatch = await failure(list({ pageToken: first.nextPageToken, status: S.INSTALLATION_STATUS_PENDING }));
    expect(decodeStatusDetails(mismatch.metadata).reason).toBe('PAGE_TOKEN_QUERY_MISMATCH');
  });

  describe('node authentication', () => {
    const node = newIdentity();
    const intruder = newIdentity();
    let jobId: string;
    beforeAll(async () => {
      jobId = (await createJob(t, node, libId)).jobId;
    });
    const bearer = (token: string) => {
      const m = new Metadata();
      m.set('authorization', token);
      return m;
    };
    const tokens: [string, () => Metadata, string][] = [
      ['no authorization', () => new Metadata(), 'MISSING_CREDENTIALS'],
      ['not a bearer token', () => bearer('Basic dXNlcjpwYXNz'), 'MALFORMED_AUTHORIZATION'],
      ['a garbage token', () => bearer('Bearer not.a.jwt'), 'MALFORMED_TOKEN'],
      ['an expired token', () => nodeMetadata(node, { ttlSeconds: 60, now: new Date(Date.now() - 10 * 60_000) }), 'TOKEN_EXPIRED'],
      ['a token that lives too long', () => nodeMetadata(node, { ttlSeconds: 3600 }), 'TOKEN_LIFETIME_TOO_LONG'],
      ['a token for the content store', () => nodeMetadata(node, { audience: 'griot-content' }), 'WRONG_AUDIENCE'],
      ['a token for another audience', () => nodeMetadata(node, { audience: 'someone-else' }), 'WRONG_AUDIENCE'],
      [
        'a wrongly signed token',
        () => {
          const good = nodeMetadata(node).get('authorization')[0] as string;
          const forged = nodeMetadata(intruder).get('authorization')[0] as string;
          return bearer(`${good.slice(0, good.lastIndexOf('.'))}${forged.slice(forged.lastIndexOf('.'))}`);
        },
        'BAD_SIGNATURE',
      ],
    ];
    const calls: [string, (m: Metadata) => Promise<unknown>][] = [
      ['CreateInstallation', (m) => call(t.client, C.createInstallation, { packageId: libId, targetNodeId: node.did }, m)],
      ['ClaimInstallation', (m) => call(t.client, C.claimInstallation, { waitMillis: 0 }, m)],
      ['ReportInstallation', (m) => report(t.client, m, [{ jobId, logLines: ['x'] }])],
      ['CancelInstallation', (m) => call(t.client, C.cancelInstallation, { jobId, reason: '' }, m)],
      ['GetInstallation', (m) => call(t.client, C.getInstallation, { jobId }, m)],
      ['ListInstallations', (m) => call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({}), m)],
      ['WatchInstallation', (m) => watchAll(t.client, { jobId }, m)],
    ];
    it.each(calls)('%s is UNAUTHENTICATED without a valid token', async (_name, make) => {
      for (const [label, metadata, reason] of tokens) {
        const err = await failure(make(metadata()));
        expect({ label, code: err.code, reason: decodeStatusDetails(err.metadata).reason }).toEqual({ label, code: Status.UNAUTHENTICATED, reason });
      }
      expect((await getJob(t, jobId)).status).toBe(S.INSTALLATION_STATUS_PENDING);
    });

    it("refuses another node's job with PERMISSION_DENIED and changes nothing", async () => {
      const create = await failure(call(t.client, C.createInstallation, { packageId: libId, targetNodeId: node.did }, nodeMetadata(intruder)));
      expect(create.code).toBe(Status.PERMISSION_DENIED);
      expect((await claim(t, intruder)).installation).toBeUndefined();
      const cancel = await failure(call(t.client, C.cancelInstallation, { jobId, reason: '' }, nodeMetadata(intruder)));
      expect(cancel.code).toBe(Status.PERMISSION_DENIED);
      await claim(t, node);
      const rep = await failure(report(t.client, nodeMetadata(intruder), [{ jobId, logLines: ['evil'] }]));
      expect({ code: rep.code, reason: decodeStatusDetails(rep.metadata).reason }).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_JOB_NODE' });
      const after = await getJob(t, jobId);
      expect(after.logs).toEqual([]);
    });
  });

  describe('operators, creators and readers', () => {
    const node = newIdentity();
    const other = newIdentity();
    const reason = (err: { code: number; metadata: Metadata }) => ({ code: err.code, reason: decodeStatusDetails(err.metadata).reason });

    it('an operator creates a job for another node, which the node claims; the job names its creator', async () => {
      const job = (await call(t.client, C.createInstallation, { packageId: libId, targetNodeId: node.did }, nodeMetadata(t.operator))).installation!;
      expect({ target: job.targetNodeId, createdBy: job.createdBy }).toEqual({ target: node.did, createdBy: t.operator.did });
      expect((await claim(t, node)).installation?.jobId).toBe(job.jobId);
      // Claim and report stay the node's: the operator cannot report on it.
      const rep = await failure(report(t.client, nodeMetadata(t.operator), [{ jobId: job.jobId, logLines: ['x'] }]));
      expect(reason(rep)).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_JOB_NODE' });
      expect((await claim(t, t.operator)).installation).toBeUndefined();
      const cancelled = await call(t.client, C.cancelInstallation, { jobId: job.jobId, reason: 'maintenance' }, nodeMetadata(t.operator));
      expect(cancelled.installation).toMatchObject({ status: S.INSTALLATION_STATUS_CANCELLED, statusMessage: 'maintenance' });
    });

    it('a node creates jobs for itself and names itself creator; it cannot create or cancel for another node', async () => {
      const own = (await call(t.client, C.createInstallation, { packageId: libId, targetNodeId: other.did }, nodeMetadata(other))).installation!;
      expect(own.createdBy).toBe(other.did);
      const create = await failure(call(t.client, C.createInstallation, { packageId: libId, targetNodeId: node.did }, nodeMetadata(other)));
      expect(reason(create)).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_AN_OPERATOR' });
      expect(create.details).toContain('REGISTRY_OPERATORS');
      const byOperator = (await call(t.client, C.createInstallation, { packageId: libId, targetNodeId: node.did }, nodeMetadata(t.operator))).installation!;
      const cancel = await failure(call(t.client, C.cancelInstallation, { jobId: byOperator.jobId, reason: '' }, nodeMetadata(other)));
      expect(reason(cancel)).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_AN_OPERATOR' });
      expect((await getJob(t, byOperator.jobId)).status).toBe(S.INSTALLATION_STATUS_PENDING);
      await call(t.client, C.cancelInstallation, { jobId: byOperator.jobId, reason: '' }, nodeMetadata(node));
      await call(t.client, C.cancelInstallation, { jobId: own.jobId, reason: '' }, nodeMetadata(other));
    });

    it('a job is read by its node, its creator and operators; anyone else is PERMISSION_DENIED', async () => {
      const creator = newIdentity();
      const operators = await startTestRegistry(kind, { env: { REGISTRY_OPERATORS: creator.did } });
      try {
        const pkg = await publish(operators, author, 'readable', '1.0.0');
        const job = (await call(operators.client, C.createInstallation, { packageId: pkg, targetNodeId: node.did }, nodeMetadata(creator))).installation!;
        const stranger = newIdentity();
        for (const reader of [node, creator, operators.operator]) {
          expect((await call(operators.client, C.getInstallation, { jobId: job.jobId }, nodeMetadata(reader))).installation?.jobId).toBe(job.jobId);
        }
        const get = await failure(call(operators.client, C.getInstallation, { jobId: job.jobId }, nodeMetadata(stranger)));
        expect(reason(get)).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_JOB_READER' });
        const watch = await failure(watchAll(operators.client, { jobId: job.jobId }, nodeMetadata(stranger)));
        expect(reason(watch)).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_JOB_READER' });
        await call(operators.client, C.cancelInstallation, { jobId: job.jobId, reason: 'done' }, nodeMetadata(node));
        const watched = await watchAll(operators.client, { jobId: job.jobId }, nodeMetadata(creator));
        expect(watched[watched.length - 1]?.status).toBe(S.INSTALLATION_STATUS_CANCELLED);
      } finally {
        await operators.stop();
      }
    });

    it('ListInstallations shows operators every job and others only the jobs they created or that target them', async () => {
      const n1 = newIdentity();
      const n2 = newIdentity();
      const mine = (await call(t.client, C.createInstallation, { packageId: libId, targetNodeId: n1.did }, nodeMetadata(n1))).installation!;
      const scheduled = (await call(t.client, C.createInstallation, { packageId: libId, targetNodeId: n1.did }, nodeMetadata(t.operator))).installation!;
      const theirs = (await call(t.client, C.createInstallation, { packageId: libId, targetNodeId: n2.did }, nodeMetadata(n2))).installation!;
      const ids = async (caller: Identity, req: Partial<registry.ListInstallationsRequest> = {}) => {
        const out: string[] = [];
        let pageToken = '';
        do {
          const page = await call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({ pageSize: 2, ...req, pageToken }), nodeMetadata(caller));
          out.push(...page.installations.map((i) => i.jobId));
          pageToken = page.nextPageToken;
        } while (pageToken !== '');
        return out;
      };
      expect(await ids(n1)).toEqual([scheduled.jobId, mine.jobId]);
      expect(await ids(n2)).toEqual([theirs.jobId]);
      // Asking for another node's jobs filters to nothing rather than failing.
      expect(await ids(n1, { targetNodeId: n2.did })).toEqual([]);
      expect(await ids(newIdentity())).toEqual([]);
      const all = await ids(t.operator);
      expect(all).toEqual(expect.arrayContaining([mine.jobId, scheduled.jobId, theirs.jobId]));
      expect(await ids(t.operator, { targetNodeId: n2.did })).toEqual([theirs.jobId]);
      // A page token is bound to its caller's scope too.
      const first = await call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({ pageSize: 1 }), nodeMetadata(t.operator));
      const stolen = await failure(call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({ pageSize: 1, pageToken: first.nextPageToken }), nodeMetadata(n1)));
      expect(reason(stolen)).toEqual({ code: Status.INVALID_ARGUMENT, reason: 'PAGE_TOKEN_QUERY_MISMATCH' });
    });
  });

  describe('bad input', () => {
    const node = newIdentity();
    const badJobIds: [string, number, string][] = [
      ['', Status.INVALID_ARGUMENT, 'MISSING_FIELD'],
      ['not-a-uuid', Status.INVALID_ARGUMENT, 'INVALID_UUID'],
      ['00000000-0000-4000-8000-000000000000', Status.NOT_FOUND, 'INSTALLATION_NOT_FOUND'],
    ];
    const jobCalls: [string, (jobId: string) => Promise<unknown>][] = [
      ['GetInstallation', (jobId) => call(t.client, C.getInstallation, { jobId }, nodeMetadata(node))],
      ['CancelInstallation', (jobId) => call(t.client, C.cancelInstallation, { jobId, reason: '' }, nodeMetadata(node))],
      ['ReportInstallation', (jobId) => report(t.client, nodeMetadata(node), [{ jobId }])],
      ['WatchInstallation', (jobId) => watchAll(t.client, { jobId }, nodeMetadata(t.operator))],
    ];
    it.each(jobCalls)('%s rejects malformed and unknown job ids', async (_name, make) => {
      for (const [jobId, code, reason] of badJobIds) {
        const err = await failure(make(jobId));
        expect({ jobId, code: err.code, reason: decodeStatusDetails(err.metadata).reason }).toEqual({ jobId, code, reason });
      }
    });

    it('CreateInstallation rejects malformed and unknown packages and bad node ids', async () => {
      const cases: [Partial<registry.CreateInstallationRequest>, number, string][] = [
        [{ packageId: 'nope', targetNodeId: node.did }, Status.INVALID_ARGUMENT, 'INVALID_SHA256'],
        [{ packageId: 'f'.repeat(64), targetNodeId: node.did }, Status.NOT_FOUND, 'PACKAGE_NOT_FOUND'],
        [{ packageId: libId, targetNodeId: '' }, Status.INVALID_ARGUMENT, 'MISSING_FIELD'],
        [{ packageId: libId, targetNodeId: 'did:web:example.org' }, Status.INVALID_ARGUMENT, 'INVALID_DID'],
      ];
      for (const [req, code, reason] of cases) {
        const err = await failure(call(t.client, C.createInstallation, registry.CreateInstallationRequest.fromPartial(req), nodeMetadata(node)));
        expect({ req, code: err.code, reason: decodeStatusDetails(err.metadata).reason }).toEqual({ req, code, reason });
      }
      expect((await call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({ targetNodeId: node.did }), nodeMetadata(t.operator))).installations).toEqual([]);
    });

    it('rejects negative page sizes, negative waits, negative and too large from_line, and statuses an agent cannot report', async () => {
      const job = await createJob(t, node, libId);
      const neg = await failure(call(t.client, C.listInstallations, registry.ListInstallationsRequest.fromPartial({ pageSize: -5 }), nodeMetadata(node)));
      expect(decodeStatusDetails(neg.metadata).reason).toBe('INVALID_PAGE_SIZE');
      const wait = await failure(call(t.client, C.claimInstallation, { waitMillis: -1 }, nodeMetadata(node)));
      expect(decodeStatusDetails(wait.metadata).reason).toBe('INVALID_WAIT');
      const from = await failure(watchAll(t.client, { jobId: job.jobId, fromLine: -1 }, nodeMetadata(t.operator)));
      expect({ code: from.code, reason: decodeStatusDetails(from.metadata).reason }).toEqual({ code: Status.INVALID_ARGUMENT, reason: 'INVALID_FROM_LINE' });
      const past = await failure(watchAll(t.client, { jobId: job.jobId, fromLine: 5 }, nodeMetadata(t.operator)));
      expect({ code: past.code, reason: decodeStatusDetails(past.metadata).reason }).toEqual({ code: Status.OUT_OF_RANGE, reason: 'FROM_LINE_OUT_OF_RANGE' });
      await claim(t, node);
      for (const status of [S.INSTALLATION_STATUS_PENDING, S.INSTALLATION_STATUS_CANCELLED]) {
        const err = await failure(report(t.client, nodeMetadata(node), [{ jobId: job.jobId, status }]));
        expect(decodeStatusDetails(err.metadata).reason).toBe('INVALID_REPORTED_STATUS');
      }
      const nul = await failure(report(t.client, nodeMetadata(node), [{ jobId: job.jobId, logLines: ['a\u0000b'] }]));
      expect(decodeStatusDetails(nul.metadata).reason).toBe('INVALID_CHARACTER');
      const changed = await failure(report(t.client, nodeMetadata(node), [{ jobId: job.jobId }, { jobId: '00000000-0000-4000-8000-000000000001' }]));
      expect(decodeStatusDetails(changed.metadata).reason).toBe('JOB_ID_CHANGED');
      const empty = await failure(report(t.client, nodeMetadata(node), []));
      expect(decodeStatusDetails(empty.metadata).reason).toBe('EMPTY_REPORT');
      expect((await getJob(t, job.jobId)).logs).toEqual([]);
    });
  });
});

describe.each(DB_KINDS)('installation leases on %s', (kind) => {
  let t: TestRegistry;
  const author = newIdentity();
  let libId: string;
  beforeAll(async () => {
    t = await startTestRegistry(kind, { env: { REGISTRY_LEASE_DURATION: '1s', REGISTRY_LEASE_SWEEP_INTERVAL: '100ms', REGISTRY_MAX_ATTEMPTS: '2' } });
    libId = await publish(t, author, 'lib', '1.0.0');
  });
  afterAll(() => t.stop());

  it('puts a job whose lease expired back to pending, then fails it after the last attempt', async () => {
    const node = newIdentity();
    const job = await createJob(t, node, libId);
    await claim(t, node);
    const back = await eventually(async () => {
      const j = await getJob(t, job.jobId);
      return j.status === S.INSTALLATION_STATUS_PENDING ? j : undefined;
    });
    expect(back).toMatchObject({ attempts: 1 });
    expect(back.statusMessage).toMatch(/lease expired/);
    // The stale agent's report is refused: its claim is gone.
    const stale = await failure(report(t.client, nodeMetadata(node), [{ jobId: job.jobId, logLines: ['late'] }]));
    expect(stale.code).toBe(Status.FAILED_PRECONDITION);
    await claim(t, node);
    const failed = await eventually(async () => {
      const j = await getJob(t, job.jobId);
      return j.status === S.INSTALLATION_STATUS_FAILED ? j : undefined;
    });
    expect(failed).toMatchObject({ attempts: 2, statusMessage: 'agent lease expired after 2 attempts; the job failed' });
    expect(failed.completedAt).toBeInstanceOf(Date);
  });

  it('keeps the lease while the report stream is open', async () => {
    const node = newIdentity();
    const job = await createJob(t, node, libId);
    await claim(t, node);
    const stream = t.client.reportInstallation(nodeMetadata(node), () => undefined);
    stream.write({ jobId: job.jobId, logLines: [], status: 0, statusMessage: '' });
    await new Promise((r) => setTimeout(r, 900));
    expect((await getJob(t, job.jobId)).status).toBe(S.INSTALLATION_STATUS_RUNNING);
    const done = new Promise((resolve, reject) => {
      const s = t.client.reportInstallation(nodeMetadata(node), (err, res) => (err ? reject(err) : resolve(res)));
      s.write({ jobId: job.jobId, logLines: [], status: S.INSTALLATION_STATUS_COMPLETED, statusMessage: '' });
      s.end();
    });
    await done;
    stream.end();
    expect((await getJob(t, job.jobId)).status).toBe(S.INSTALLATION_STATUS_COMPLETED);
  });
});

describeIf([postgresKind()])('watches across replicas on PostgreSQL', () => {
  it('delivers every line in order and the final status to watchers on another replica', async () => {
    const database = await createPostgresDatabase();
    const store = await stubContentStore();
    const a = await startTestRegistry('postgres', { databaseUrl: database.url, store });
    const b = await startTestRegistry('postgres', { databaseUrl: database.url, store });
    try {
      const author = newIdentity();
      const node = newIdentity();
      const pkg = await publish(a, author, 'replicated', '1.0.0');
      const job = await createJob(a, node, pkg);
      await claim(a, node);
      const watchers = Array.from({ length: 3 }, () => watchAll(b.client, { jobId: job.jobId, fromLine: 0 }, nodeMetadata(b.operator)));
      await new Promise((r) => setTimeout(r, 200));
      const lines = Array.from({ length: 2000 }, (_, i) => `replica line ${i}`);
      const messages: Partial<registry.ReportInstallationRequest>[] = [{ jobId: job.jobId }];
      for (let i = 0; i < lines.length; i += 100) messages.push({ logLines: lines.slice(i, i + 100) });
      messages.push({ status: S.INSTALLATION_STATUS_COMPLETED, statusMessage: 'ok' });
      await report(a.client, nodeMetadata(node), messages);
      for (const got of await Promise.all(watchers)) {
        expect(got.flatMap((m) => m.lines)).toEqual(lines);
        expect(got[got.length - 1]).toMatchObject({ status: S.INSTALLATION_STATUS_COMPLETED, statusMessage: 'ok' });
      }
    } finally {
      await a.stop();
      await b.stop();
      await store.stop();
      await database.drop();
    }
  });
});
