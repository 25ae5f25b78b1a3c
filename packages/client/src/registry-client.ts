/**
 * The registry's promise client: one method per unary RPC (reads retried,
 * writes never), and {@link RegistryClient.followInstallation}, an
 * installation job's log that survives dropped streams.
 */
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { callUnary, fillRequest as fill, type CallOptions, type CallSite, type RequestOf, type UnaryStarter } from './call';
import { followInstallation, type FollowEvent, type FollowOptions } from './follow-installation';

/** The client of `griot.registry.v1.RegistryService`. */
export class RegistryClient {
  /** The generated grpc-js client, for the client-streaming ReportInstallation (a node agent's call). */
  readonly raw: registry.RegistryServiceClient;

  /**
   * @param site - The registry's address, audience, identity, deadline and retry policy.
   * @param credentials - Plaintext or TLS channel credentials.
   * @param channelOptions - grpc-js channel options.
   */
  constructor(
    readonly site: CallSite,
    credentials: ChannelCredentials,
    channelOptions: ChannelOptions = {},
  ) {
    this.raw = new registry.RegistryServiceClient(site.address, credentials, channelOptions);
  }

  private call<T>(start: UnaryStarter<T>, options: CallOptions | undefined, idempotent: boolean): Promise<T> {
    return callUnary(this.site, start, options, idempotent);
  }

  /** Registers a package: its artifact's SHA-256 as the id and the author-signed manifest. */
  registerPackage(request: RequestOf<registry.RegisterPackageRequest>, options?: CallOptions): Promise<registry.RegisterPackageResponse> {
    const req = fill(registry.RegisterPackageRequest, request);
    return this.call((md, o, cb) => this.raw.registerPackage(req, md, o, cb), options, false);
  }

  /** Reads a package by its id (retried). */
  getPackage(request: RequestOf<registry.GetPackageRequest>, options?: CallOptions): Promise<registry.GetPackageResponse> {
    const req = fill(registry.GetPackageRequest, request);
    return this.call((md, o, cb) => this.raw.getPackage(req, md, o, cb), options, true);
  }

  /** Lists packages, one page (retried). */
  listPackages(request: RequestOf<registry.ListPackagesRequest> = {}, options?: CallOptions): Promise<registry.ListPackagesResponse> {
    const req = fill(registry.ListPackagesRequest, request);
    return this.call((md, o, cb) => this.raw.listPackages(req, md, o, cb), options, true);
  }

  /** Resolves packages and version ranges to the packages to install, in order (retried). */
  resolveDependencies(request: RequestOf<registry.ResolveDependenciesRequest>, options?: CallOptions): Promise<registry.ResolveDependenciesResponse> {
    const req = fill(registry.ResolveDependenciesRequest, request);
    return this.call((md, o, cb) => this.raw.resolveDependencies(req, md, o, cb), options, true);
  }

  /** Yanks a package (an owner of its name). */
  yankPackage(request: RequestOf<registry.YankPackageRequest>, options?: CallOptions): Promise<registry.YankPackageResponse> {
    const req = fill(registry.YankPackageRequest, request);
    return this.call((md, o, cb) => this.raw.yankPackage(req, md, o, cb), options, false);
  }

  /** Undoes a yank (an owner of its name). */
  unyankPackage(request: RequestOf<registry.UnyankPackageRequest>, options?: CallOptions): Promise<registry.UnyankPackageResponse> {
    const req = fill(registry.UnyankPackageRequest, request);
    return this.call((md, o, cb) => this.raw.unyankPackage(req, md, o, cb), options, false);
  }

  /** Adds an owner to a package name (an owner of it). */
  addPackageOwner(request: RequestOf<registry.AddPackageOwnerRequest>, options?: CallOptions): Promise<registry.AddPackageOwnerResponse> {
    const req = fill(registry.AddPackageOwnerRequest, request);
    return this.call((md, o, cb) => this.raw.addPackageOwner(req, md, o, cb), options, false);
  }

  /** Removes an owner from a package name (an owner of it). */
  removePackageOwner(request: RequestOf<registry.RemovePackageOwnerRequest>, options?: CallOptions): Promise<registry.RemovePackageOwnerResponse> {
    const req = fill(registry.RemovePackageOwnerRequest, request);
    return this.call((md, o, cb) => this.raw.removePackageOwner(req, md, o, cb), options, false);
  }

  /** Lists the owners of a package name (retried). */
  listPackageOwners(request: RequestOf<registry.ListPackageOwnersRequest>, options?: CallOptions): Promise<registry.ListPackageOwnersResponse> {
    const req = fill(registry.ListPackageOwnersRequest, request);
    return this.call((md, o, cb) => this.raw.listPackageOwners(req, md, o, cb), options, true);
  }

  /** Creates an installation job for a node. */
  createInstallation(request: RequestOf<registry.CreateInstallationRequest>, options?: CallOptions): Promise<registry.CreateInstallationResponse> {
    const req = fill(registry.CreateInstallationRequest, request);
    return this.call((md, o, cb) => this.raw.createInstallation(req, md, o, cb), options, false);
  }

  /** Reads an installation job (retried). */
  getInstallation(request: RequestOf<registry.GetInstallationRequest>, options?: CallOptions): Promise<registry.GetInstallationResponse> {
    const req = fill(registry.GetInstallationRequest, request);
    return this.call((md, o, cb) => this.raw.getInstallation(req, md, o, cb), options, true);
  }

  /** Lists installation jobs, one page (retried). */
  listInstallations(request: RequestOf<registry.ListInstallationsRequest> = {}, options?: CallOptions): Promise<registry.ListInstallationsResponse> {
    const req = fill(registry.ListInstallationsRequest, request);
    return this.call((md, o, cb) => this.raw.listInstallations(req, md, o, cb), options, true);
  }

  /**
   * Claims the next job for the calling node, waiting up to `waitMillis` for
   * one; the deadline defaults to that wait plus the client's default.
   */
  claimInstallation(request: RequestOf<registry.ClaimInstallationRequest>, options: CallOptions = {}): Promise<registry.ClaimInstallationResponse> {
    const req = fill(registry.ClaimInstallationRequest, request);
    const deadlineMs = options.deadlineMs ?? req.waitMillis + this.site.deadlineMs;
    return this.call((md, o, cb) => this.raw.claimInstallation(req, md, o, cb), { ...options, deadlineMs }, false);
  }

  /** Cancels an installation job. */
  cancelInstallation(request: RequestOf<registry.CancelInstallationRequest>, options?: CallOptions): Promise<registry.CancelInstallationResponse> {
    const req = fill(registry.CancelInstallationRequest, request);
    return this.call((md, o, cb) => this.raw.cancelInstallation(req, md, o, cb), options, false);
  }

  /**
   * Follows an installation job's log: its lines as they come, then one
   * `end` event with the final status. A dropped stream is opened again from
   * the number of lines already received (with a fresh token), so no line is
   * repeated or skipped.
   *
   * @param jobId - The job.
   * @param options - Where to start, who asks, when to give up.
   */
  followInstallation(jobId: string, options: FollowOptions = {}): AsyncGenerator<FollowEvent, void, undefined> {
    return followInstallation(this, jobId, options);
  }

  /** Closes the channel. */
  close(): void {
    this.raw.close();
  }
}
