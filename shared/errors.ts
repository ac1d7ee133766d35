/**
 * Every failure Shoal reports carries a stable `code`. The HTTP status lives beside the code so the
 * gateway maps errors to responses in exactly one place, and clients can branch on `code` alone.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  BAD_NAME: 400,
  BAD_FRAME: 400,
  UPLOAD_INCOMPLETE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  CHUNK_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  CONFLICT: 409,
  NODE_NOT_SAFE_TO_REMOVE: 409,
  FILE_TOO_LARGE: 413,
  BAD_RANGE: 416,
  HASH_MISMATCH: 422,
  CHUNK_CORRUPT: 500,
  INTERNAL: 500,
  NODE_FULL: 507,
  INSUFFICIENT_NODES: 503,
  CHUNK_UNAVAILABLE: 503,
  NODE_OFFLINE: 503,
  GATEWAY_UNREACHABLE: 503,
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
