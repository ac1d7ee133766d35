import { toShoalError, type ErrorCode } from '../../../shared/errors.ts';

/** S3's error codes this gateway answers with, and the status AWS documents for each. */
export const S3_ERROR_STATUS = {
  AccessDenied: 403,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  XAmzContentSHA256Mismatch: 400,
} as const;

export type S3ErrorCode = keyof typeof S3_ERROR_STATUS;

/** An S3 error: answered as S3's XML `<Error>` with its code's status. */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  /** Further elements of the `<Error>` body S3 adds for this code (e.g. the range, the time skew). */
  readonly details: Readonly<Record<string, string>>;

  constructor(code: S3ErrorCode, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = 'S3Error';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return S3_ERROR_STATUS[this.code];
  }
}

/** What Shoal's own errors are as S3 errors, for failures that reach the S3 API from the layers below. */
const FROM_SHOAL: Partial<Record<ErrorCode, S3ErrorCode>> = {
  BAD_REQUEST: 'InvalidArgument',
  BAD_NAME: 'InvalidArgument',
  UPLOAD_INCOMPLETE: 'IncompleteBody',
  UPLOAD_IDLE: 'IncompleteBody',
  FILE_NOT_FOUND: 'NoSuchKey',
  FILE_TOO_LARGE: 'EntityTooLarge',
  BAD_RANGE: 'InvalidRange',
  PRECONDITION_FAILED: 'PreconditionFailed',
  INSUFFICIENT_NODES: 'ServiceUnavailable',
  INSUFFICIENT_STORAGE: 'ServiceUnavailable',
  NODE_FULL: 'ServiceUnavailable',
  TOO_MANY_UPLOADS: 'SlowDown',
  CHUNK_UNAVAILABLE: 'ServiceUnavailable',
  CONFLICT: 'ServiceUnavailable',
};

export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  const shoal = toShoalError(err);
  // A refusal that says when to come back (TOO_MANY_UPLOADS) keeps saying it: SDKs and the aws
  // CLI retry a 503 SlowDown after Retry-After.
  const retryAfter = shoal.headers['Retry-After'];
  return new S3Error(FROM_SHOAL[shoal.code] ?? 'InternalError', shoal.message, retryAfter === undefined ? {} : { RetryAfterSeconds: retryAfter });
}
