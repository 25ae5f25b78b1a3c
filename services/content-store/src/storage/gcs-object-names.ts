/**
 * Object names of the GCS storage under its prefix: blobs at
 * `<prefix>/sha256/<hex>`, the parts of an upload at
 * `<prefix>/uploads/<uploadId>/<16-digit start offset>`, and the intermediate
 * objects of a multi-level compose beside them (`.../compose-<level>-<n>`).
 */

/** Width of the zero-padded start offset: every safe integer fits, and names sort by offset. */
const OFFSET_DIGITS = 16;
const PART_NAME = /^\d{16}$/;

/** Builds and parses the object names of one storage prefix. */
export class GcsObjectNames {
  private readonly base: string;

  /** @param prefix - Prefix of every object; '' or e.g. `griot/blobs` (slashes at the ends are ignored). */
  constructor(prefix: string) {
    const trimmed = prefix.replace(/^\/+|\/+$/g, '');
    this.base = trimmed === '' ? '' : `${trimmed}/`;
  }

  /**
   * The object of a committed blob.
   *
   * @param sha256 - A checked digest.
   */
  blob(sha256: string): string {
    return `${this.base}sha256/${sha256}`;
  }

  /**
   * The prefix under which every object of an upload lives.
   *
   * @param uploadId - A normalized upload id.
   */
  uploadPrefix(uploadId: string): string {
    return `${this.base}uploads/${uploadId}/`;
  }

  /**
   * The part object that starts at `start`.
   *
   * @param uploadId - A normalized upload id.
   * @param start - The part's first byte within the upload.
   */
  part(uploadId: string, start: number): string {
    return `${this.uploadPrefix(uploadId)}${String(start).padStart(OFFSET_DIGITS, '0')}`;
  }

  /**
   * An intermediate object of a multi-level compose.
   *
   * @param uploadId - A normalized upload id.
   * @param level - Compose level, from 0.
   * @param index - Index within the level.
   */
  intermediate(uploadId: string, level: number, index: number): string {
    return `${this.uploadPrefix(uploadId)}compose-${level}-${index}`;
  }

  /**
   * The start offset of a part object, or undefined for any other object of the upload.
   *
   * @param uploadId - A normalized upload id.
   * @param name - An object name under {@link GcsObjectNames.uploadPrefix}.
   */
  partStart(uploadId: string, name: string): number | undefined {
    const tail = name.slice(this.uploadPrefix(uploadId).length);
    return PART_NAME.test(tail) ? Number(tail) : undefined;
  }
}
