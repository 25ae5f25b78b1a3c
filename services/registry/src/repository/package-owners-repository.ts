/**
 * SQL of package names, their owners and their audit log (`package_names`,
 * `package_owners`, `package_audit_log`). Constructed on a transaction, its
 * statements run in it; the name row is the lock every change to a name takes.
 */
import type { Knex } from 'knex';
import { translateSqlError } from '@griot/server-kit';

/** An owner of a package name. */
export interface PackageOwnerRecord {
  /** The package name. */
  name: string;
  /** The owner's did:key. */
  ownerDid: string;
  /** Who made it an owner. */
  addedBy: string;
  /** When. */
  addedAt: Date;
}

/** What an audit entry records. */
export type PackageAuditAction = 'OWNER_ADDED' | 'OWNER_REMOVED' | 'VERSION_YANKED' | 'VERSION_UNYANKED';

/** An entry of the audit log. */
export interface PackageAuditRecord {
  /** Its position in the log (ascending). */
  id: string;
  /** The package name. */
  name: string;
  /** What changed. */
  action: PackageAuditAction;
  /** Who changed it: a did:key, or `migration:005`. */
  actorDid: string;
  /** The owner added or removed. */
  ownerDid: string | null;
  /** The package yanked or unyanked. */
  packageId: string | null;
  /** The yank reason. */
  reason: string | null;
  /** When. */
  createdAt: Date;
}

/** An audit entry to append. */
export type NewPackageAuditRecord = Pick<PackageAuditRecord, 'name' | 'action' | 'actorDid'> & Partial<Pick<PackageAuditRecord, 'ownerDid' | 'packageId' | 'reason'>>;

interface RawOwnerRow {
  name: string;
  owner_did: string;
  added_by: string;
  added_at: Date | string;
}

interface RawAuditRow {
  id: string | number;
  name: string;
  action: PackageAuditAction;
  actor_did: string;
  owner_did: string | null;
  package_id: string | null;
  reason: string | null;
  created_at: Date | string;
}

const AUDIT_COLUMNS = 'id::text AS id, name, action, actor_did, owner_did, package_id, reason, created_at';
const RESOURCE = { resourceType: 'PackageName' };

/** The name, owner and audit tables. */
export class PackageOwnersRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * Records `name` as registered by `creatorDid` unless it already is, and
   * locks its row until the transaction ends either way. A concurrent first
   * registration of the same name waits here for this transaction, then
   * finds the name taken.
   * @returns true when this call created the name (its first registration).
   */
  async claimName(name: string, creatorDid: string): Promise<boolean> {
    try {
      const { rows } = await this.knex.raw<{ rows: { name: string }[] }>(
        'INSERT INTO package_names (name, created_by) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING name',
        [name, creatorDid],
      );
      if (rows.length > 0) return true;
    } catch (err) {
      throw translateSqlError(err, { ...RESOURCE, name });
    }
    await this.lockName(name);
    return false;
  }

  /**
   * Locks the row of `name` until the transaction ends.
   * @returns Whether the name exists.
   */
  async lockName(name: string): Promise<boolean> {
    const { rows } = await this.knex.raw<{ rows: { name: string }[] }>('SELECT name FROM package_names WHERE name = ? FOR UPDATE', [name]);
    return rows.length > 0;
  }

  /** The owners of `name`, oldest first. */
  async owners(name: string): Promise<PackageOwnerRecord[]> {
    const { rows } = await this.knex.raw<{ rows: RawOwnerRow[] }>(
      'SELECT name, owner_did, added_by, added_at FROM package_owners WHERE name = ? ORDER BY added_at ASC, owner_did ASC',
      [name],
    );
    return rows.map(toOwner);
  }

  /**
   * Makes `ownerDid` an owner of `name` unless it is one.
   * @returns Whether this call added it.
   */
  async addOwner(name: string, ownerDid: string, addedBy: string): Promise<boolean> {
    try {
      const { rows } = await this.knex.raw<{ rows: { name: string }[] }>(
        'INSERT INTO package_owners (name, owner_did, added_by) VALUES (?, ?, ?) ON CONFLICT (name, owner_did) DO NOTHING RETURNING name',
        [name, ownerDid, addedBy],
      );
      return rows.length > 0;
    } catch (err) {
      throw translateSqlError(err, { resourceType: 'PackageOwner', name: `${name} ${ownerDid}` });
    }
  }

  /**
   * Removes `ownerDid` from the owners of `name`.
   * @returns Whether it was an owner.
   */
  async removeOwner(name: string, ownerDid: string): Promise<boolean> {
    const { rows } = await this.knex.raw<{ rows: { name: string }[] }>('DELETE FROM package_owners WHERE name = ? AND owner_did = ? RETURNING name', [name, ownerDid]);
    return rows.length > 0;
  }

  /** Appends an entry to the audit log. */
  async appendAudit(entry: NewPackageAuditRecord): Promise<PackageAuditRecord> {
    try {
      const { rows } = await this.knex.raw<{ rows: RawAuditRow[] }>(
        `INSERT INTO package_audit_log (name, action, actor_did, owner_did, package_id, reason) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${AUDIT_COLUMNS}`,
        [entry.name, entry.action, entry.actorDid, entry.ownerDid ?? null, entry.packageId ?? null, entry.reason ?? null],
      );
      return toAudit(rows[0]!);
    } catch (err) {
      throw translateSqlError(err, { ...RESOURCE, name: entry.name });
    }
  }

  /**
   * One page of the audit log of `name`, newest first, after the entry
   * `afterId` when given; asks one more than `limit` to know whether more follow.
   */
  async auditPage(name: string, limit: number, afterId?: string): Promise<{ rows: PackageAuditRecord[]; more: boolean }> {
    const { rows } = await this.knex.raw<{ rows: RawAuditRow[] }>(
      `SELECT ${AUDIT_COLUMNS} FROM package_audit_log WHERE name = ?${afterId === undefined ? '' : ' AND id < ?::bigint'} ORDER BY id DESC LIMIT ?`,
      afterId === undefined ? [name, limit + 1] : [name, afterId, limit + 1],
    );
    return { rows: rows.slice(0, limit).map(toAudit), more: rows.length > limit };
  }

  /** Every audit entry made by `actorDid`, oldest first (the migration's log of what it yanked). */
  async auditByActor(actorDid: string): Promise<PackageAuditRecord[]> {
    const { rows } = await this.knex.raw<{ rows: RawAuditRow[] }>(`SELECT ${AUDIT_COLUMNS} FROM package_audit_log WHERE actor_did = ? ORDER BY id ASC`, [actorDid]);
    return rows.map(toAudit);
  }
}

function toOwner(raw: RawOwnerRow): PackageOwnerRecord {
  return { name: raw.name, ownerDid: raw.owner_did, addedBy: raw.added_by, addedAt: new Date(raw.added_at) };
}

function toAudit(raw: RawAuditRow): PackageAuditRecord {
  return {
    id: String(raw.id),
    name: raw.name,
    action: raw.action,
    actorDid: raw.actor_did,
    ownerDid: raw.owner_did,
    packageId: raw.package_id,
    reason: raw.reason,
    createdAt: new Date(raw.created_at),
  };
}
