/**
 * Who may do what in the content store. Identities are did:keys proven by a
 * caller token (`aud` CONTENT_TOKEN_AUDIENCE).
 *
 * | Action                          | Allowed to                                              |
 * |---------------------------------|---------------------------------------------------------|
 * | UploadBlob, CreateManifest      | any caller with a valid token, or only CONTENT_WRITERS   |
 * |                                 | when that list is set                                   |
 * | DeleteManifest                  | the manifest's creator, or a DID of CONTENT_OPERATORS;  |
 * |                                 | manifests made before creators were recorded (no        |
 * |                                 | creator): operators only                                |
 * | every read                      | anyone; with CONTENT_REQUIRE_READ_AUTH=true, any caller |
 * |                                 | with a valid token (of any DID)                         |
 *
 * A creator taken off CONTENT_WRITERS may still delete what it created:
 * deleting only ever frees space.
 */
import { permissionDenied } from '@griot/server-kit';

/** The configured lists. */
export interface ContentAccessConfig {
  /** CONTENT_WRITERS; empty = every authenticated caller. */
  writers: ReadonlySet<string>;
  /** CONTENT_OPERATORS. */
  operators: ReadonlySet<string>;
}

/** The content store's permission rules. */
export class ContentAccess {
  /** @param config - Writers and operators. */
  constructor(private readonly config: ContentAccessConfig) {}

  /**
   * The caller may upload and create manifests.
   * @throws PERMISSION_DENIED NOT_A_CONTENT_WRITER.
   */
  requireWriter(caller: string): void {
    if (this.config.writers.size === 0 || this.config.writers.has(caller)) return;
    throw permissionDenied('NOT_A_CONTENT_WRITER', `${caller} may not write to this content store: only the DIDs of CONTENT_WRITERS may`, { caller });
  }

  /**
   * The caller may delete a manifest created by `creator` (null: before creators were recorded).
   * @throws PERMISSION_DENIED NOT_MANIFEST_CREATOR.
   */
  requireDeleter(caller: string, manifestId: string, creator: string | null): void {
    if (caller === creator || this.config.operators.has(caller)) return;
    throw permissionDenied(
      'NOT_MANIFEST_CREATOR',
      creator === null
        ? `${caller} may not delete manifest ${manifestId}: it was made before creators were recorded, so only a content operator (CONTENT_OPERATORS) may`
        : `${caller} may not delete manifest ${manifestId}: only its creator ${creator} or a content operator (CONTENT_OPERATORS) may`,
      { caller, manifestId, ...(creator === null ? {} : { creator }) },
    );
  }
}
