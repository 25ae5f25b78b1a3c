/**
 * Who may do what to installation jobs. Identities are did:keys proven by a
 * caller token; operators are the DIDs of REGISTRY_OPERATORS.
 *
 * | Action                               | Allowed to                                        |
 * |--------------------------------------|---------------------------------------------------|
 * | CreateInstallation                   | the target node (for itself), an operator (any)   |
 * | CancelInstallation                   | the target node, an operator                      |
 * | ClaimInstallation, ReportInstallation| the target node only                              |
 * | GetInstallation, WatchInstallation   | the target node, the job's creator, an operator   |
 * | ListInstallations                    | anyone with a token: operators see every job,     |
 * |                                      | others the jobs they created or that target them  |
 *
 * Refusals are PERMISSION_DENIED with reason NOT_JOB_NODE, NOT_AN_OPERATOR
 * or NOT_JOB_READER, a message that says who may, and ErrorInfo metadata
 * naming the caller and the job's node.
 */
import { permissionDenied } from '@griot/server-kit';

/** What a permission check needs to know about a job. */
export interface JobParties {
  /** The job id. */
  jobId: string;
  /** The node the job installs on. */
  targetNodeId: string;
  /** The DID that created it. */
  createdBy: string;
}

/** The installation permission rules, with the configured operators. */
export class JobAccess {
  /** @param operators - REGISTRY_OPERATORS. */
  constructor(readonly operators: ReadonlySet<string>) {}

  /** Whether the DID is an operator. */
  isOperator(did: string): boolean {
    return this.operators.has(did);
  }

  /**
   * A node creates jobs for itself; an operator for any node.
   * @throws PERMISSION_DENIED NOT_AN_OPERATOR.
   */
  requireCreate(caller: string, targetNodeId: string): void {
    if (caller === targetNodeId || this.isOperator(caller)) return;
    throw permissionDenied(
      'NOT_AN_OPERATOR',
      `${caller} may not create installation jobs for node ${targetNodeId}: a node creates jobs for itself, and only an operator (REGISTRY_OPERATORS) for another node`,
      { caller, targetNodeId },
    );
  }

  /**
   * The job's node or an operator cancels it.
   * @throws PERMISSION_DENIED NOT_AN_OPERATOR.
   */
  requireCancel(caller: string, job: JobParties): void {
    if (caller === job.targetNodeId || this.isOperator(caller)) return;
    throw permissionDenied(
      'NOT_AN_OPERATOR',
      `${caller} may not cancel job ${job.jobId}: only its node ${job.targetNodeId} or an operator (REGISTRY_OPERATORS) may`,
      { caller, targetNodeId: job.targetNodeId, jobId: job.jobId },
    );
  }

  /**
   * The job's node, its creator or an operator reads it.
   * @throws PERMISSION_DENIED NOT_JOB_READER.
   */
  requireRead(caller: string, job: JobParties): void {
    if (caller === job.targetNodeId || caller === job.createdBy || this.isOperator(caller)) return;
    throw permissionDenied(
      'NOT_JOB_READER',
      `${caller} may not read job ${job.jobId}: only its node ${job.targetNodeId}, its creator ${job.createdBy} or an operator (REGISTRY_OPERATORS) may`,
      { caller, targetNodeId: job.targetNodeId, createdBy: job.createdBy, jobId: job.jobId },
    );
  }

  /** The DID a listing is limited to (jobs it created or that target it), or undefined for an operator. */
  listScope(caller: string): string | undefined {
    return this.isOperator(caller) ? undefined : caller;
  }
}

/**
 * Only the job's node claims it and reports on it.
 * @throws PERMISSION_DENIED NOT_JOB_NODE.
 */
export function requireJobNode(caller: string, targetNodeId: string, action: string): void {
  if (caller !== targetNodeId) {
    throw permissionDenied('NOT_JOB_NODE', `${caller} may not ${action}: the job belongs to node ${targetNodeId}, and only it may`, { caller, targetNodeId });
  }
}
