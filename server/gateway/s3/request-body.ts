import { createHash } from 'node:crypto';
import { createSha256 } from '../../sha256.ts';
import { decodeAwsChunked } from './chunked-payload.ts';
import { isChecksumAlgorithm, runningChecksum, type RunningChecksum } from './checksums.ts';
import { S3Error } from './s3-errors.ts';
import { STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD, type VerifiedSignature } from './sigv4.ts';

/** An object's body as the client meant it: decoded, with its MD5 once it has been read whole. */
export interface ObjectBody {
  bytes: AsyncIterable<Uint8Array>;
  /** Bytes the body holds, when the request says so up front. */
  declaredSize: number | null;
  /** The MD5 of the bytes read, hex; valid once `bytes` has ended. */
  md5Hex(): string;
  /** The S3 error that ended `bytes`, if any: what to answer with rather than the storage layer's wrapping of it. */
  failure(): S3Error | null;
}

/**
 * The body of a PUT, decoded from aws-chunked when the request says it is, and checked as it
 * streams by everything the client sent to check it with: the signed SHA-256, Content-MD5, an
 * `x-amz-checksum-*` header or trailer, chunk signatures, the declared length. A mismatch ends the
 * stream with an error, before the storage layer can commit what it read.
 */
export function objectBody(headers: Headers, body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null, signed: VerifiedSignature | null): ObjectBody {
  const payload = signed?.payloadHash ?? UNSIGNED_PAYLOAD;
  const streaming = payload === STREAMING_SIGNED || payload === STREAMING_SIGNED_TRAILER || payload === STREAMING_UNSIGNED_TRAILER;
  const encodings = (headers.get('content-encoding') ?? '').split(',').map((e) => e.trim());
  if (!streaming && payload.startsWith('STREAMING-')) throw new S3Error('NotImplemented', `x-amz-content-sha256 ${payload} is not supported`);
  const decodedLength = headers.get('x-amz-decoded-content-length');
  const lengthText = streaming || encodings.includes('aws-chunked') ? decodedLength : headers.get('content-length');
  const declaredSize = lengthText === null ? null : Number(lengthText);
  if (declaredSize !== null && !(Number.isSafeInteger(declaredSize) && declaredSize >= 0)) throw new S3Error('InvalidArgument', `${lengthText} is not a length`);

  const contentMd5 = headers.get('content-md5');
  if (contentMd5 !== null && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  const md5 = createHash('md5');
  const sha256 = /^[0-9a-f]{64}$/.test(payload) ? createSha256() : null;
  const checksum = checksumOf(headers);
  const trailers = new Map<string, string>();
  const raw = (body ?? emptyBody()) as AsyncIterable<Uint8Array>;
  const decoded = streaming || encodings.includes('aws-chunked') ? decodeAwsChunked(raw, payload === STREAMING_UNSIGNED_TRAILER ? null : signed, trailers) : raw;
  let failure: S3Error | null = null;
  let md5Hex = '';

  async function* checked(): AsyncGenerator<Uint8Array> {
    let size = 0;
    try {
      for await (const piece of decoded) {
        size += piece.length;
        if (declaredSize !== null && size > declaredSize) throw new S3Error('IncompleteBody', 'The body is longer than its declared length');
        md5.update(piece);
        sha256?.update(piece);
        checksum?.running.update(piece);
        yield piece;
      }
      if (declaredSize !== null && size !== declaredSize) throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
      const digest = md5.digest();
      md5Hex = digest.toString('hex');
      if (contentMd5 !== null && digest.toString('base64') !== contentMd5) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      if (sha256 && sha256.digest('hex') !== payload) {
        throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
      if (checksum) {
        const expected = checksum.value ?? trailers.get(`x-amz-checksum-${checksum.algorithm}`);
        if (expected === undefined) throw new S3Error('InvalidRequest', `The x-amz-checksum-${checksum.algorithm} trailer was announced but not sent`);
        if (checksum.running.base64() !== expected) throw new S3Error('BadDigest', `The x-amz-checksum-${checksum.algorithm} you specified did not match the calculated checksum.`);
      }
    } catch (err) {
      if (err instanceof S3Error) failure = err;
      throw err;
    }
  }

  return { bytes: checked(), declaredSize, md5Hex: () => md5Hex, failure: () => failure };
}

/** The checksum to verify: from an `x-amz-checksum-<alg>` header, or announced by `x-amz-trailer` to follow the body. */
function checksumOf(headers: Headers): { algorithm: string; running: RunningChecksum; value: string | null } | null {
  for (const [name, value] of headers) {
    const algorithm = name.startsWith('x-amz-checksum-') ? name.slice('x-amz-checksum-'.length) : null;
    if (algorithm && isChecksumAlgorithm(algorithm)) return { algorithm, running: runningChecksum(algorithm), value };
  }
  const trailer = headers.get('x-amz-trailer')?.trim().toLowerCase();
  const algorithm = trailer?.startsWith('x-amz-checksum-') ? trailer.slice('x-amz-checksum-'.length) : null;
  if (algorithm && isChecksumAlgorithm(algorithm)) return { algorithm, running: runningChecksum(algorithm), value: null };
  // A checksum of an algorithm not computed here (crc64nvme) is parsed past and not verified.
  return null;
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
