/**
 * Conversions between the registry's domain records and the generated
 * griot.registry.v1 messages and enums (the content store's counterpart is
 * its grpc/messages.ts).
 */
import { registry } from '@griot/proto';
import { invalidField, keepEncoding } from '@griot/server-kit';
import type { JobStatus } from '../domain/installation-state';
import type { InstallationRecord } from '../repository/installations-repository';
import type { PackageAuditAction, PackageAuditRecord, PackageOwnerRecord } from '../repository/package-owners-repository';
import type { PackageRecord } from '../repository/packages-repository';

const { InstallationStatus } = registry;

const TO_PROTO: Record<JobStatus, registry.InstallationStatus> = {
  pending: InstallationStatus.INSTALLATION_STATUS_PENDING,
  running: InstallationStatus.INSTALLATION_STATUS_RUNNING,
  completed: InstallationStatus.INSTALLATION_STATUS_COMPLETED,
  failed: InstallationStatus.INSTALLATION_STATUS_FAILED,
  cancelled: InstallationStatus.INSTALLATION_STATUS_CANCELLED,
};

/** A stored status as the proto enum. */
export function toInstallationStatus(status: JobStatus): registry.InstallationStatus {
  return TO_PROTO[status];
}

/**
 * A proto status as a stored one; undefined for UNSPECIFIED.
 * @throws INVALID_ARGUMENT INVALID_STATUS for values outside the enum.
 */
export function fromInstallationStatus(value: registry.InstallationStatus, field: string): JobStatus | undefined {
  if (value === InstallationStatus.INSTALLATION_STATUS_UNSPECIFIED) return undefined;
  const found = (Object.keys(TO_PROTO) as JobStatus[]).find((s) => TO_PROTO[s] === value);
  if (!found) throw invalidField(field, 'INVALID_STATUS', `${value} is not an InstallationStatus value`);
  return found;
}

/** A package record as a Package message. */
export function toPackageMessage(row: PackageRecord): registry.Package {
  return {
    packageId: row.packageId,
    manifest: row.manifest,
    artifactUrl: row.artifactUrl,
    authorDid: row.authorDid,
    signature: row.signature,
    createdAt: row.createdAt,
    yanked: row.yanked,
    yankReason: row.yankReason ?? '',
  };
}

/**
 * GetPackage answers by package record. A record is never changed in place
 * (a yank or unyank reads a new one), so the answer made from it, and its
 * encoding ({@link keepEncoding}), stay true for as long as the record lives,
 * which for a cached package is as long as the GetPackage cache keeps it.
 */
const getPackageResponses = new WeakMap<PackageRecord, registry.GetPackageResponse>();

/** The GetPackage answer for a package record: made, and encoded when first sent, once per record. */
export function toGetPackageResponse(row: PackageRecord): registry.GetPackageResponse {
  let response = getPackageResponses.get(row);
  if (!response) {
    response = keepEncoding({ package: toPackageMessage(row) });
    getPackageResponses.set(row, response);
  }
  return response;
}

const AUDIT_ACTIONS: Record<PackageAuditAction, registry.PackageAuditAction> = {
  OWNER_ADDED: registry.PackageAuditAction.PACKAGE_AUDIT_ACTION_OWNER_ADDED,
  OWNER_REMOVED: registry.PackageAuditAction.PACKAGE_AUDIT_ACTION_OWNER_REMOVED,
  VERSION_YANKED: registry.PackageAuditAction.PACKAGE_AUDIT_ACTION_VERSION_YANKED,
  VERSION_UNYANKED: registry.PackageAuditAction.PACKAGE_AUDIT_ACTION_VERSION_UNYANKED,
};

/** A package owner record as a PackageOwner message. */
export function toOwnerMessage(row: PackageOwnerRecord): registry.PackageOwner {
  return { did: row.ownerDid, addedBy: row.addedBy, addTime: row.addedAt };
}

/** An audit log record as a PackageAuditEntry message. */
export function toAuditEntryMessage(row: PackageAuditRecord): registry.PackageAuditEntry {
  return {
    action: AUDIT_ACTIONS[row.action],
    actorDid: row.actorDid,
    ownerDid: row.ownerDid ?? '',
    packageId: row.packageId ?? '',
    reason: row.reason ?? '',
    createTime: row.createdAt,
  };
}

/** An installation record as an Installation message (with logs when the record has them). */
export function toInstallationMessage(row: InstallationRecord): registry.Installation {
  return {
    jobId: row.jobId,
    packageId: row.packageId,
    targetNodeId: row.targetNodeId,
    status: toInstallationStatus(row.status),
    statusMessage: row.statusMessage ?? '',
    logs: row.logs ?? [],
    logCount: row.logCount,
    installOrder: row.installOrder,
    attempts: row.attempts,
    leaseExpireTime: row.leaseExpiresAt ?? undefined,
    createdAt: row.createdAt,
    completedAt: row.completedAt ?? undefined,
    createdBy: row.createdBy,
  };
}
