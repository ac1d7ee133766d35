/**
 * Every failure Shoal reports carries a stable `code`. The HTTP status lives beside the code so the
 * gateway maps errors to responses in exactly one place, and clients can branch on `code` alone.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  BAD_NAME: 400,
  BAD_FRAME: 400,
  UPLOAD_INCOMPLETE: 400,
  UPLOAD_IDLE: 408,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  /** The request's Host is not a name this gateway serves (e.g. a DNS-rebound page's). */
  MISDIRECTED: 421,
  /** Too many failed authentication attempts from one address; Retry-After says when to try again. */
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  CHUNK_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  CONFLICT: 409,
  NODE_NOT_SAFE_TO_REMOVE: 409,
  PRECONDITION_FAILED: 412,
  FILE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_RANGE: 416,
  HASH_MISMATCH: 422,
  CHUNK_CORRUPT: 500,
  INTERNAL: 500,
  NODE_FULL: 507,
  /** A node that cannot stop reading its socket (a tab) refuses puts past the bytes it takes in at once. */
  NODE_BUSY: 503,
  INSUFFICIENT_STORAGE: 507,
  INSUFFICIENT_NODES: 503,
  TOO_MANY_UPLOADS: 503,
  CHUNK_UNAVAILABLE: 503,
  NODE_OFFLINE: 503,
  GATEWAY_UNREACHABLE: 503,
  /** Other gateways revoked this one's chunk claims while it was out of touch with the shared database: it writes again once what relied on them has ended. */
  GATEWAY_FENCED: 503,
  /** The metadata database kept refusing a change for concurrent ones (serialization failures): nothing was changed. */
  METADATA_BUSY: 503,
  /** A node could not move a chunk over HTTP (BULK_PATH): the gateway sends it in a frame instead. */
  BULK_TRANSFER_FAILED: 502,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ShoalError extends Error {
  readonly code: ErrorCode;
  /** Response headers the error's status calls for, e.g. Content-Range on a 416. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options);
    this.name = 'ShoalError';
    this.code = code;
    this.headers = options?.headers ?? {};
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

/** Turns anything thrown into a ShoalError, keeping typed ones as they are. */
export function toShoalError(err: unknown, fallback: ErrorCode = 'INTERNAL'): ShoalError {
  if (err instanceof ShoalError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ShoalError(fallback, message, { cause: err });
}
