/**
 * Errors in the JSON API's shape: `{ error: { code, message, errors: [...] } }`,
 * which the client turns into an `ApiError` with `code` set to the HTTP status.
 */

/** An HTTP error to answer with, in the GCS JSON API error shape. */
export class GcsHttpError extends Error {
  /**
   * @param status - HTTP status code.
   * @param reason - GCS reason string (`notFound`, `conditionNotMet`, `invalid`, ...).
   * @param message - Message shown to the client.
   */
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'GcsHttpError';
  }

  /** The JSON body GCS sends for this error. */
  toJSON(): unknown {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason }],
      },
    };
  }
}

/**
 * 404 for a missing object.
 *
 * @param bucket - Bucket name.
 * @param name - Object name.
 */
export function noSuchObject(bucket: string, name: string): GcsHttpError {
  return new GcsHttpError(404, 'notFound', `No such object: ${bucket}/${name}`);
}

/** 412 for a failed `ifGenerationMatch`/`ifGenerationNotMatch`. */
export function conditionNotMet(): GcsHttpError {
  return new GcsHttpError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
}

/**
 * 400 for a request this server (or GCS) does not accept.
 *
 * @param message - What is wrong with the request.
 */
export function badRequest(message: string): GcsHttpError {
  return new GcsHttpError(400, 'invalid', message);
}
