import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../../sha256.ts';
import { S3Error } from './s3-errors.ts';

/**
 * AWS Signature Version 4 as S3 checks it
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html):
 * in the Authorization header or in a presigned URL's query. Parsing says who claims to sign;
 * `verify` then proves it with that key's secret.
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a request's time may be from ours, as S3 allows. */
export const MAX_SKEW_MS = 15 * 60_000;
/** The longest a presigned URL may be valid: seven days. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What a request needs to be checked: its method, its path and query exactly as sent, its headers. */
export interface SigningInput {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Headers;
}

/** A request's claim to be signed by `accessKeyId`, not yet verified. */
export interface SignatureClaim {
  accessKeyId: string;
  /** yyyymmdd/region/s3/aws4_request */
  scope: string;
  /** The request's time, ISO 8601 basic (20250101T000000Z). */
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  /** What the signature covers of the body: a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-… mode. */
  payloadHash: string;
  presigned: boolean;
}

/** Who signed the request, proven: and the key that signs each chunk of a streamed body. */
export interface VerifiedSignature extends SignatureClaim {
  signingKey: Buffer;
}

/** The claim a request makes, from its Authorization header or presigned query; null when it makes none (anonymous). */
export function parseSignature(input: SigningInput, now: number): SignatureClaim | null {
  const authorization = input.headers.get('authorization');
  const query = new URLSearchParams(input.rawQuery);
  if (authorization !== null) return parseHeader(authorization, input.headers, now);
  if (query.has('X-Amz-Signature') || query.has('X-Amz-Algorithm')) return parsePresigned(query, input.headers, now);
  return null;
}

function parseHeader(authorization: string, headers: Headers, now: number): SignatureClaim {
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    throw new S3Error('InvalidArgument', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported');
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) throw new S3Error('AccessDenied', 'The Authorization header is malformed');
  const amzDate = headers.get('x-amz-date') ?? toAmzDate(headers.get('date'));
  const payloadHash = headers.get('x-amz-content-sha256');
  if (!payloadHash) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  checkSkew(amzDate, now);
  return { ...parseCredential(credential, amzDate), amzDate, signedHeaders: signedHeaders.split(';'), signature, payloadHash, presigned: false };
}

function parsePresigned(query: URLSearchParams, headers: Headers, now: number): SignatureClaim {
  const algorithm = query.get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new S3Error('InvalidArgument', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported');
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  const expires = Number(query.get('X-Amz-Expires'));
  if (!credential || !amzDate || !signedHeaders || !signature) throw new S3Error('AccessDenied', 'Query-string authentication requires X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature');
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
  }
  const signedAt = amzDateMs(amzDate);
  if (signedAt - now > MAX_SKEW_MS) throw skewed(amzDate, now);
  if (now > signedAt + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired', { X_Amz_Expires: String(expires), Expires: new Date(signedAt + expires * 1000).toISOString() });
  return {
    ...parseCredential(credential, amzDate),
    amzDate,
    signedHeaders: signedHeaders.split(';'),
    signature,
    payloadHash: query.get('X-Amz-Content-Sha256') ?? headers.get('x-amz-content-sha256') ?? UNSIGNED_PAYLOAD,
    presigned: true,
  };
}

function parseCredential(credential: string, amzDate: string): { accessKeyId: string; scope: string } {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[3] !== 's3' || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) {
    throw new S3Error('AccessDenied', `The credential ${credential} is malformed: expected <key>/<yyyymmdd>/<region>/s3/aws4_request`);
  }
  if (parts[1] !== amzDate.slice(0, 8)) throw new S3Error('SignatureDoesNotMatch', "The credential's date does not match the request's date");
  return { accessKeyId: parts[0]!, scope: parts.slice(1).join('/') };
}

function checkSkew(amzDate: string, now: number): void {
  if (Math.abs(amzDateMs(amzDate) - now) > MAX_SKEW_MS) throw skewed(amzDate, now);
}

function skewed(amzDate: string, now: number): S3Error {
  return new S3Error('RequestTimeTooSkewed', "The difference between the request time and the server's time is too large.", {
    RequestTime: amzDate,
    ServerTime: new Date(now).toISOString(),
    MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
  });
}

function amzDateMs(amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) throw new S3Error('AccessDenied', `X-Amz-Date ${JSON.stringify(amzDate)} is not of the form yyyymmddThhmmssZ`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function toAmzDate(date: string | null): string {
  const ms = date === null ? NaN : Date.parse(date);
  if (Number.isNaN(ms)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Proves the claim with the key's secret; throws SignatureDoesNotMatch when it is not the signature of this request. */
export function verifySignature(claim: SignatureClaim, input: SigningInput, secret: string): VerifiedSignature {
  for (const name of ['host', ...(claim.presigned ? [] : ['x-amz-content-sha256'])]) {
    if (!claim.signedHeaders.includes(name)) throw new S3Error('AccessDenied', `The ${name} header must be signed`);
  }
  // As S3 does: an x-amz-* header changes what a request does (x-amz-copy-source turns a PUT into a
  // copy of any object), so whoever holds a presigned URL or a captured request may not add one.
  // A presigned URL's x-amz-content-sha256 only says how to check the body it was given.
  const unsigned = [...input.headers.keys()].filter(
    (name) => name.startsWith('x-amz-') && !claim.signedHeaders.includes(name) && !(claim.presigned && name === 'x-amz-content-sha256'),
  );
  if (unsigned.length > 0) throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });
  const [date, region, service] = claim.scope.split('/') as [string, string, string];
  const signingKey = deriveSigningKey(secret, date, region, service);
  const canonical = canonicalRequest(claim, input);
  const expected = hmacHex(signingKey, [ALGORITHM, claim.amzDate, claim.scope, sha256Hex(canonical)].join('\n'));
  if (!sameHex(expected, claim.signature)) {
    throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ...claim, signingKey };
}

function canonicalRequest(claim: SignatureClaim, input: SigningInput): string {
  const headers = claim.signedHeaders.map((name) => `${name}:${(input.headers.get(name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payload = claim.presigned ? (new URLSearchParams(input.rawQuery).get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD) : claim.payloadHash;
  return [input.method, canonicalPath(input.rawPath), canonicalQuery(input.rawQuery, claim.presigned), headers, claim.signedHeaders.join(';'), payload].join('\n');
}

/** Each segment as S3 canonicalises it: decoded, then encoded once with SigV4's UriEncode; slashes kept. */
function canonicalPath(rawPath: string): string {
  return rawPath.split('/').map((segment) => uriEncode(decode(segment))).join('/') || '/';
}

function canonicalQuery(rawQuery: string, presigned: boolean): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decode(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
      return [uriEncode(name), uriEncode(value)] as const;
    })
    .filter(([name]) => !(presigned && name === 'X-Amz-Signature'));
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidArgument', `${JSON.stringify(text)} is not valid percent-encoding`);
  }
}

/** RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 defines UriEncode. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const dateKey = hmac(`AWS4${secret}`, date);
  return hmac(hmac(hmac(dateKey, region), service), 'aws4_request');
}

/** The signature of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, chained from the one before. */
export function chunkSignature(signed: VerifiedSignature, previous: string, chunkSha256: string): string {
  return hmacHex(signed.signingKey, ['AWS4-HMAC-SHA256-PAYLOAD', signed.amzDate, signed.scope, previous, EMPTY_SHA256, chunkSha256].join('\n'));
}

/** The signature of a signed streaming body's trailing headers, chained from the last chunk's. */
export function trailerSignature(signed: VerifiedSignature, previous: string, trailers: string): string {
  return hmacHex(signed.signingKey, ['AWS4-HMAC-SHA256-TRAILER', signed.amzDate, signed.scope, previous, sha256Hex(trailers)].join('\n'));
}

export function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}
