/**
 * The node agent: claims its node's installation jobs, checks every package
 * of a job (signature, and an author the node trusts for the name) before it
 * installs any, then streams each one (dependencies first) into a staging
 * folder that is moved into place once the artifact's SHA-256 is verified, and
 * reports its log lines and final status to the registry while it
 * works. What it installed is recorded by package id under
 * `<root>/.griot/installed`, so "already installed" means the same artifact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { verifyDocument, type KeyFileKeyPair } from '@griot/did';
import { registry } from '@griot/proto';
import { CONTENT_AUDIENCE, readContent } from './blob-transfer';
import { CliError } from './cli-error';
import { isServiceError, toCliError, unary, type ServiceClients } from './grpc-call';
import { isValidPackageName, isValidVersion } from '@griot/client';
import { callerMetadata } from './key-files';
import { safeExtract, type ExtractLimits, type ExtractSummary } from './safe-extract';
import { checkTrust, type TrustPolicy } from './trust-policy';

const S = registry.InstallationStatus;

/** Downloaded bytes buffered ahead of the extraction: one message of the content store's reads (1 MiB) and one more. */
const ARCHIVE_BUFFER_BYTES = 2 * 1024 * 1024;

/** How the agent runs. */
export interface AgentOptions {
  /** Clients of the registry and the content store. */
  readonly clients: ServiceClients;
  /** The node's key pair: jobs are claimed as this node. */
  readonly node: KeyFileKeyPair;
  /** The install root: packages go to `<root>/packages/<name>/<version>`. */
  readonly root: string;
  /** The audience of node tokens. */
  readonly audience: string;
  /** Receives the agent's own log lines (with the job id when there is one). */
  readonly log: (line: string) => void;
  /** Aborted to stop: the agent stops claiming, finishes the current job and returns. */
  readonly signal: AbortSignal;
  /** Return after one job. */
  readonly once?: boolean;
  /** How long one claim waits for a job, in milliseconds. */
  readonly waitMillis?: number;
  /** Limits of archive extraction. */
  readonly limits?: Partial<ExtractLimits>;
  /**
   * The node's trust policy: which authors it accepts for which names. Without
   * one, a package's author must be a current owner of its name according to
   * the registry.
   */
  readonly trust?: { readonly policy: TrustPolicy; readonly source: string };
}

/** An agent-side failure of one package, with the sentence reported as the job's status message. */
export class InstallError extends Error {
  /** @param message - Why the job failed. */
  constructor(message: string) {
    super(message);
    this.name = 'InstallError';
  }
}

/** The folder a package is installed in. */
export function installPath(root: string, name: string, version: string): string {
  return join(root, 'packages', ...name.split('/'), version);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Checks a package's manifest, artifact location and signature; returns name and version. */
export function checkManifest(pkg: registry.Package): { name: string; version: string; size: number } {
  const m = (pkg.manifest ?? {}) as Record<string, unknown>;
  const name = m['name'];
  const version = m['version'];
  if (!isValidPackageName(name)) throw new InstallError(`package ${pkg.packageId} has an invalid name ${JSON.stringify(name)}`);
  if (!isValidVersion(version)) throw new InstallError(`package ${String(name)} has an invalid version ${JSON.stringify(version)}`);
  const artifact = (m['artifact'] ?? {}) as Record<string, unknown>;
  if (artifact['digest'] !== `sha256:${pkg.packageId}`) {
    throw new InstallError(`${name}@${version}: the manifest's artifact digest ${JSON.stringify(artifact['digest'])} is not the package id`);
  }
  const size = artifact['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new InstallError(`${name}@${version}: the manifest has no valid artifact size`);
  if (pkg.artifactUrl !== '' && pkg.artifactUrl !== `griot-content://sha256/${pkg.packageId}`) {
    throw new InstallError(`${name}@${version}: unsupported artifact location ${pkg.artifactUrl}`);
  }
  const author = m['author'];
  if (typeof author !== 'string' || author !== pkg.authorDid) throw new InstallError(`${name}@${version}: the manifest's author is not the package's author ${pkg.authorDid}`);
  try {
    verifyDocument(m, { expectedController: author });
  } catch (err: unknown) {
    throw new InstallError(`${name}@${version}: the manifest's signature does not verify: ${(err as Error).message}`);
  }
  return { name, version, size };
}

/** What the agent records about a package it installed. */
export interface InstallRecord {
  /** The package id (the artifact's SHA-256). */
  readonly packageId: string;
  /** The author who signed it. */
  readonly authorDid: string;
  /** When it was installed, ISO 8601. */
  readonly installedAt: string;
}

/** Where the record of an installed `name@version` is kept. */
export function installRecordPath(root: string, name: string, version: string): string {
  return join(root, '.griot', 'installed', ...name.split('/'), `${version}.json`);
}

async function readInstallRecord(root: string, name: string, version: string): Promise<InstallRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(installRecordPath(root, name, version), 'utf8')) as Partial<InstallRecord>;
    return typeof parsed.packageId === 'string' ? (parsed as InstallRecord) : undefined;
  } catch {
    return undefined;
  }
}

async function writeInstallRecord(root: string, name: string, version: string, record: InstallRecord): Promise<void> {
  const path = installRecordPath(root, name, version);
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${randomBytes(8).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, path);
}

/** Whether `name@version` is installed, and as which package. */
export type InstalledState = { readonly kind: 'absent' } | { readonly kind: 'same' } | { readonly kind: 'other'; readonly packageId?: string };

/**
 * Whether the package is installed: `same` only when the folder is there and
 * its record names this package id; `other` when the folder holds another
 * artifact of the same name@version (or one installed without a record).
 */
export async function installedState(root: string, pkg: registry.Package, name: string, version: string): Promise<InstalledState> {
  if (!(await exists(installPath(root, name, version)))) return { kind: 'absent' };
  const record = await readInstallRecord(root, name, version);
  if (record?.packageId === pkg.packageId) return { kind: 'same' };
  return { kind: 'other', packageId: record?.packageId };
}

function anotherArtifact(label: string, target: string, pkg: registry.Package, state: { packageId?: string }): InstallError {
  const holder = state.packageId !== undefined ? `package ${state.packageId}` : 'files installed without a record of their package id';
  return new InstallError(`${label}: ${target} already holds another artifact (${holder}), not package ${pkg.packageId}; remove it to install this one`);
}

/**
 * Installs one package: skip when the same package id is already there
 * (refuse when another artifact of that name@version is); else check the
 * manifest's signature, stream the artifact from the content store into a
 * staging folder (extracting as it arrives, hashing every byte), and only once
 * its size and SHA-256 match the manifest rename that folder into place and
 * record its id. Nothing unverified is ever installed: a mismatch leaves
 * nothing but the staging folder, which is removed.
 *
 * @param options - The agent's options.
 * @param pkg - The package, from the claim's install order.
 * @param log - Reports a log line of the job.
 * @returns Whether it was installed or already there.
 */
export async function installPackage(options: AgentOptions, pkg: registry.Package, log: (line: string) => void): Promise<'installed' | 'skipped'> {
  const { name, version, size } = checkManifest(pkg);
  const label = `${name}@${version}`;
  const target = installPath(options.root, name, version);
  const state = await installedState(options.root, pkg, name, version);
  if (state.kind === 'same') {
    log(`${label}: already installed at ${target} (package ${pkg.packageId}), skipping`);
    return 'skipped';
  }
  if (state.kind === 'other') throw anotherArtifact(label, target, pkg, state);
  const packagesDir = join(options.root, 'packages');
  await mkdir(packagesDir, { recursive: true });
  const tmp = join(packagesDir, `.tmp-${randomBytes(8).toString('hex')}`);
  try {
    log(`${label}: downloading ${size} bytes from the content store, extracting them into a staging folder as they arrive`);
    const { received, digest, extraction } = await downloadAndExtract(options, pkg, label, size, tmp);
    // The staging folder is moved into place only once every byte is accounted for and its SHA-256 is the package id.
    if (received !== size) throw new InstallError(`${label}: the artifact has ${received} bytes, the manifest says ${size}`);
    if (digest !== pkg.packageId) throw new InstallError(`${label}: the artifact's SHA-256 is ${digest}, expected ${pkg.packageId}`);
    log(`${label}: sha256 ${digest} verified`);
    if (extraction.status === 'rejected') throw extraction.reason;
    const summary = extraction.value;
    await mkdir(join(target, '..'), { recursive: true });
    try {
      await rename(tmp, target);
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(target))) {
        const now = await installedState(options.root, pkg, name, version);
        if (now.kind === 'other') throw anotherArtifact(label, target, pkg, now);
        log(`${label}: installed meanwhile by someone else, keeping it`);
        return 'skipped';
      }
      throw err;
    }
    await writeInstallRecord(options.root, name, version, { packageId: pkg.packageId, authorDid: pkg.authorDid, installedAt: new Date().toISOString() });
    log(`${label}: extracted ${summary.files} files, ${summary.bytes} bytes into ${target}`);
    return 'installed';
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** What {@link downloadAndExtract} saw: the bytes received, their SHA-256, and how the extraction ended. */
interface Download {
  readonly received: number;
  readonly digest: string;
  readonly extraction: PromiseSettledResult<ExtractSummary>;
}

/**
 * Streams the artifact from the content store through its SHA-256 into
 * {@link safeExtract} into the staging folder `tmp`, so that the download,
 * the hash, gunzip and the file writes overlap and the artifact is never
 * written to disk whole. Nothing is verified here: the caller checks size and
 * digest before it moves `tmp` into place. When the extraction stops first (a
 * refused or corrupt archive), the rest is still read and hashed, so that a
 * store that sent other bytes is reported as such rather than as a bad
 * archive; the manifest's size bounds what is read either way.
 *
 * @throws the download's error ({@link CliError}, or {@link InstallError} past the manifest's size).
 */
async function downloadAndExtract(options: AgentOptions, pkg: registry.Package, label: string, size: number, tmp: string): Promise<Download> {
  const hash = createHash('sha256');
  let received = 0;
  // Backpressure from the extraction reaches the gRPC stream through this buffer.
  const archive = new PassThrough({ highWaterMark: ARCHIVE_BUFFER_BYTES });
  const closed = new Promise<void>((resolve) => archive.once('close', resolve));
  // Its failures (the extraction destroying it) reach the caller through the extraction's outcome.
  archive.on('error', () => undefined);
  const extracting = safeExtract(archive, tmp, options.limits);
  const downloading = readContent(
    options.clients.content(),
    options.clients.contentEndpoint,
    { target: { $case: 'blob', blob: { sha256: pkg.packageId, storageName: '' } }, offset: 0, limit: 0 },
    async (chunk) => {
      received += chunk.length;
      if (received > size) throw new InstallError(`${label}: the content store sent more than the ${size} bytes of the artifact`);
      hash.update(chunk);
      if (archive.destroyed) return;
      if (!archive.write(chunk)) {
        let resume!: () => void;
        await Promise.race([new Promise<void>((r) => archive.once('drain', (resume = r))), closed]);
        archive.off('drain', resume);
      }
    },
    // The node's token, for a content store that wants one even to read (CONTENT_REQUIRE_READ_AUTH).
    callerMetadata(options.node, CONTENT_AUDIENCE),
  );
  const [download, extraction] = await Promise.allSettled([
    downloading.then(
      () => void archive.end(),
      (err: unknown) => {
        // The extraction stops at the missing end; the download's error is the one reported.
        archive.destroy();
        throw err;
      },
    ),
    extracting,
  ]);
  if (download.status === 'rejected') throw download.reason;
  return { received, digest: hash.digest('hex'), extraction };
}

/** The current owners of package names, asked of the registry once per name and job. */
export type OwnerLookup = (name: string) => Promise<readonly string[]>;

function ownerLookup(options: AgentOptions): OwnerLookup {
  const asked = new Map<string, Promise<readonly string[]>>();
  return (name) => {
    let owners = asked.get(name);
    if (owners === undefined) {
      const client = options.clients.registry();
      owners = unary<registry.ListPackageOwnersResponse>(options.clients.registryEndpoint, (md, o, cb) => client.listPackageOwners({ name, pageSize: 1, pageToken: '' }, md, o, cb)).then(
        (res) => res.owners.map((o) => o.did),
        (err: unknown) => {
          throw new InstallError(`cannot ask the registry who owns ${name} (${(err as Error).message}); run the agent with --trust FILE to decide by a policy instead`);
        },
      );
      asked.set(name, owners);
    }
    return owners;
  };
}

/**
 * Checks that the package's author is one the node accepts for its name: one
 * its trust policy allows, or without a policy a current owner of the name
 * according to the registry.
 *
 * @returns The log line that says which check passed.
 * @throws {@link InstallError} naming the package and its author otherwise.
 */
export async function checkAuthor(options: AgentOptions, pkg: registry.Package, name: string, version: string, owners: OwnerLookup): Promise<string> {
  const label = `${name}@${version} (package ${pkg.packageId})`;
  const author = pkg.authorDid;
  if (options.trust) {
    const { trusted, rule } = checkTrust(options.trust.policy, name, author);
    if (trusted) return `${name}@${version}: author ${author} is trusted for ${name} by the trust policy (pattern ${JSON.stringify(rule!.pattern)})`;
    const why = rule === undefined ? 'no pattern of the policy matches the name' : `its pattern ${JSON.stringify(rule.pattern)} allows ${rule.authors.length === 0 ? 'nobody' : rule.authors.join(', ')}`;
    throw new InstallError(`${label} is signed by ${author}, whom the trust policy ${options.trust.source} does not allow for ${name} (${why})`);
  }
  const current = await owners(name);
  if (current.includes(author)) return `${name}@${version}: author ${author} is a current owner of ${name} according to the registry (no --trust policy)`;
  throw new InstallError(`${label} is signed by ${author}, who is not a current owner of ${name} according to the registry (owners: ${current.length === 0 ? 'none' : current.join(', ')})`);
}

/** A client stream of ReportInstallation messages with backpressure. */
class Reporter {
  private readonly call;
  private readonly answer: Promise<registry.ReportInstallationResponse>;
  private chain: Promise<void> = Promise.resolve();
  private failed?: unknown;

  constructor(
    options: AgentOptions,
    private readonly jobId: string,
  ) {
    let settle!: { resolve: (r: registry.ReportInstallationResponse) => void; reject: (e: unknown) => void };
    this.answer = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.answer.catch((err: unknown) => {
      this.failed = err;
    });
    this.call = options.clients
      .registry()
      .reportInstallation(callerMetadata(options.node, options.audience), (err: ServiceError | null, res: registry.ReportInstallationResponse) =>
        err ? settle.reject(toCliError(err, options.clients.registryEndpoint)) : settle.resolve(res),
      );
  }

  /** Queues a message; order is kept. */
  send(message: Partial<registry.ReportInstallationRequest>): Promise<void> {
    const full: registry.ReportInstallationRequest = { jobId: this.jobId, logLines: [], status: S.INSTALLATION_STATUS_UNSPECIFIED, statusMessage: '', ...message };
    this.chain = this.chain.then(async () => {
      if (this.failed !== undefined) return;
      if (!this.call.write(full)) await Promise.race([once(this.call, 'drain'), this.answer.catch(() => undefined)]);
    });
    return this.chain;
  }

  /** Ends the stream and waits for the registry's answer. */
  async close(): Promise<registry.ReportInstallationResponse> {
    await this.chain;
    this.call.end();
    return this.answer;
  }
}

/**
 * Runs one claimed job to its end, reporting to the registry.
 *
 * @param options - The agent's options.
 * @param claim - The claim's answer.
 * @returns The status reported.
 */
export async function runJob(options: AgentOptions, claim: registry.ClaimInstallationResponse): Promise<registry.InstallationStatus> {
  const job = claim.installation!;
  const reporter = new Reporter(options, job.jobId);
  const log = (line: string): void => {
    options.log(`[${job.jobId}] ${line}`);
    void reporter.send({ logLines: [line] });
  };
  const heartbeat = setInterval(() => void reporter.send({ status: S.INSTALLATION_STATUS_RUNNING }), 20_000);
  let final: registry.InstallationStatus = S.INSTALLATION_STATUS_COMPLETED;
  let message = '';
  try {
    // A claim whose packages would not fit in a message names their ids only: read each.
    let order = claim.installOrder;
    if (order.length === 0) {
      log(`the claim names ${job.installOrder.length} package id(s) only (over the registry's claim budget); reading each with GetPackage`);
      order = await fetchPackages(options, job.installOrder);
    }
    const last = order[order.length - 1];
    log(`claimed by ${options.node.did} (attempt ${job.attempts}); ${order.length} package(s) to install: ${order.map((p) => `${String((p.manifest ?? {})['name'])}@${String((p.manifest ?? {})['version'])}`).join(', ')}`);
    if (!last || last.packageId !== job.packageId) throw new InstallError(`the install order does not end with the job's package ${job.packageId}`);
    // Every package is checked before any is installed: a job with one package the node does not trust installs nothing.
    const owners = ownerLookup(options);
    for (const pkg of order) {
      const { name, version } = checkManifest(pkg);
      log(`${name}@${version}: signature verified (author ${pkg.authorDid})`);
      log(await checkAuthor(options, pkg, name, version, owners));
      if (pkg.yanked) log(`${name}@${version}: this version is yanked: ${pkg.yankReason || 'no reason given'}`);
      const state = await installedState(options.root, pkg, name, version);
      if (state.kind === 'other') throw anotherArtifact(`${name}@${version}`, installPath(options.root, name, version), pkg, state);
    }
    for (const [i, pkg] of order.entries()) {
      log(`[${i + 1}/${order.length}] ${pkg.packageId}`);
      await installPackage(options, pkg, log);
    }
    message = `installed ${String((last.manifest ?? {})['name'])}@${String((last.manifest ?? {})['version'])} and ${order.length - 1} dependencies`;
    log(message);
  } catch (err: unknown) {
    final = S.INSTALLATION_STATUS_FAILED;
    message = err instanceof InstallError || err instanceof CliError ? err.message : `agent error: ${(err as Error)?.message ?? String(err)}`;
    log(`failed: ${message}`);
  } finally {
    clearInterval(heartbeat);
  }
  await reporter.send({ status: final, statusMessage: message });
  try {
    await reporter.close();
  } catch (err: unknown) {
    options.log(`[${job.jobId}] could not report to the registry: ${(err as Error).message}`);
  }
  options.log(`[${job.jobId}] ${final === S.INSTALLATION_STATUS_COMPLETED ? 'completed' : 'failed'}`);
  return final;
}

/** The packages of an install order, read one by one with GetPackage. */
async function fetchPackages(options: AgentOptions, packageIds: string[]): Promise<registry.Package[]> {
  const client = options.clients.registry();
  const packages: registry.Package[] = [];
  for (const packageId of packageIds) {
    const res = await unary<registry.GetPackageResponse>(options.clients.registryEndpoint, (md, o, cb) => client.getPackage({ packageId }, md, o, cb));
    if (!res.package) throw new InstallError(`package ${packageId} of the install order is not in the registry`);
    packages.push(res.package);
  }
  return packages;
}

function claim(options: AgentOptions, waitMillis: number): Promise<registry.ClaimInstallationResponse | undefined> {
  return new Promise((resolve, reject) => {
    const client = options.clients.registry();
    const call = client.claimInstallation(
      { waitMillis },
      callerMetadata(options.node, options.audience),
      { deadline: new Date(Date.now() + waitMillis + 30_000) },
      (err: ServiceError | null, res: registry.ClaimInstallationResponse) => {
        options.signal.removeEventListener('abort', cancel);
        if (err) {
          if (err.code === grpcStatus.CANCELLED && options.signal.aborted) resolve(undefined);
          else reject(err);
        } else resolve(res.installation ? res : undefined);
      },
    );
    const cancel = (): void => call.cancel();
    options.signal.addEventListener('abort', cancel, { once: true });
  });
}

/**
 * The agent's loop: claim, run, repeat until the signal is aborted (or one
 * job with `once`). An unreachable registry is retried with backoff.
 *
 * @param options - The agent's options.
 * @returns The number of jobs run.
 */
export async function runAgent(options: AgentOptions): Promise<number> {
  const waitMillis = options.waitMillis ?? 10_000;
  let jobs = 0;
  let backoff = 500;
  options.log(`agent for ${options.node.did} installing into ${options.root}, registry ${options.clients.registryEndpoint.address}`);
  options.log(
    options.trust
      ? `trust: the policy ${options.trust.source} decides which authors are accepted for which names (${options.trust.policy.authors.size} pattern(s))`
      : 'trust: no --trust policy; a package is accepted only when its author is a current owner of its name according to the registry',
  );
  while (!options.signal.aborted) {
    let claimed: registry.ClaimInstallationResponse | undefined;
    try {
      claimed = await claim(options, waitMillis);
      backoff = 500;
    } catch (err: unknown) {
      // RESOURCE_EXHAUSTED: an answer larger than this agent takes (a registry older than the claim budget); the job's lease ends it.
      if (
        isServiceError(err) &&
        (err.code === grpcStatus.UNAVAILABLE || err.code === grpcStatus.DEADLINE_EXCEEDED || err.code === grpcStatus.INTERNAL || err.code === grpcStatus.RESOURCE_EXHAUSTED)
      ) {
        options.log(`cannot claim from the registry at ${options.clients.registryEndpoint.address} (${err.details}); retrying in ${backoff} ms`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      throw toCliError(err, options.clients.registryEndpoint);
    }
    if (!claimed) continue;
    await runJob(options, claimed);
    jobs += 1;
    if (options.once === true) break;
  }
  options.log('agent stopped');
  return jobs;
}
