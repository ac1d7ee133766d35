import { parseRange } from '../api/byte-range.ts';
import { isoTime, metadataHeaders, userMetadata, xmlResponse, type S3Call, type S3Handler } from './s3-call.ts';
import { S3Error } from './s3-errors.ts';
import type { NewAttributes, S3Object, S3Objects } from './s3-objects.ts';
import { xmlDocument } from './xml.ts';

/** What a GET's response-* query parameters may set in the answer (presigned links use them). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

export const getObject: S3Handler = async (call, { objects }) => {
  const object = await objects.get(call.bucket, call.key);
  const headers = objectHeaders(object);
  const answer = readPreconditions(call.headers, object);
  if (answer === 'not-modified') return new Response(null, { status: 304, headers: { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']! } });
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = call.query.get(param);
    if (value !== null) headers[header] = value;
  }
  const size = object.file.size;
  let range: { start: number; end: number } | null;
  try {
    range = parseRange(call.headers.get('range') ?? undefined, size);
  } catch {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size), RangeRequested: call.headers.get('range') ?? '' });
  }
  const span = range ?? { start: 0, end: size - 1 };
  headers['Content-Length'] = String(Math.max(0, span.end - span.start + 1));
  if (range) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${size}`;
  const status = range ? 206 : 200;
  if (call.method === 'HEAD') return new Response(null, { status, headers });
  return new Response(size === 0 ? null : await objects.open(object, span), { status, headers });
};

export const putObject: S3Handler = async (call, { objects }) => {
  await writePreconditions(call, objects);
  const object = await objects.put(call.bucket, call.key, call.headers, call.body, call.signed, newAttributes(call.headers));
  return new Response(null, { status: 200, headers: { ETag: object.etag } });
};

export const deleteObject: S3Handler = async (call, { objects }) => {
  await objects.bucket(call.bucket);
  await objects.delete(call.bucket, call.key);
  return new Response(null, { status: 204 });
};

export const copyObject: S3Handler = async (call, { objects }) => {
  const source = await copySource(call, objects);
  const directive = (call.headers.get('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'Unknown metadata directive.');
  if (directive === 'COPY' && source.bucket === call.bucket && source.key === call.key) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const copy = await objects.copy(source, call.bucket, call.key, directive === 'REPLACE' ? newAttributes(call.headers) : null);
  return xmlResponse(
    xmlDocument('CopyObjectResult', [
      ['LastModified', isoTime(copy.lastModified)],
      ['ETag', copy.etag],
    ]),
  );
};

/** The object named by x-amz-copy-source, its x-amz-copy-source-if-* conditions met. */
export async function copySource(call: S3Call, objects: S3Objects): Promise<S3Object> {
  const header = call.headers.get('x-amz-copy-source')!;
  let path: string;
  try {
    path = decodeURIComponent(header.split('?')[0]!).replace(/^\//, '');
  } catch {
    throw new S3Error('InvalidArgument', 'x-amz-copy-source is not valid percent-encoding');
  }
  const slash = path.indexOf('/');
  if (slash <= 0) throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const bucket = path.slice(0, slash);
  await objects.bucket(bucket);
  const source = await objects.get(bucket, path.slice(slash + 1));
  const failed = evaluate(source, {
    ifMatch: call.headers.get('x-amz-copy-source-if-match'),
    ifNoneMatch: call.headers.get('x-amz-copy-source-if-none-match'),
    ifModifiedSince: call.headers.get('x-amz-copy-source-if-modified-since'),
    ifUnmodifiedSince: call.headers.get('x-amz-copy-source-if-unmodified-since'),
  });
  if (failed) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: failed });
  return source;
}

/**
 * A conditional write (If-None-Match: * to create only, If-Match to replace only that version),
 * checked before the body is read; a write racing it to the same key may still land first.
 */
async function writePreconditions(call: S3Call, objects: S3Objects): Promise<void> {
  const ifNoneMatch = call.headers.get('if-none-match');
  const ifMatch = call.headers.get('if-match');
  if (ifNoneMatch === null && ifMatch === null) return;
  const current = await objects.get(call.bucket, call.key).catch((err: unknown) => {
    if (err instanceof S3Error && err.code === 'NoSuchKey') return null;
    throw err;
  });
  if (ifNoneMatch !== null && current && etagMatches(ifNoneMatch, current.etag)) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  }
  if (ifMatch !== null && !(current && etagMatches(ifMatch, current.etag))) {
    if (!current) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
}

export function objectHeaders(object: S3Object): Record<string, string> {
  return {
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Content-Type': object.contentType,
    'Accept-Ranges': 'bytes',
    ...metadataHeaders(object.metadata),
  };
}

export function newAttributes(headers: Headers): NewAttributes {
  return { contentType: headers.get('content-type'), metadata: userMetadata(headers) };
}

interface Conditions {
  ifMatch: string | null;
  ifNoneMatch: string | null;
  ifModifiedSince: string | null;
  ifUnmodifiedSince: string | null;
}

/** A GET's or HEAD's conditional headers, as S3 weighs them: 412 and 304 where S3 answers them. */
function readPreconditions(headers: Headers, object: S3Object): 'proceed' | 'not-modified' {
  const failed = evaluate(object, {
    ifMatch: headers.get('if-match'),
    ifNoneMatch: headers.get('if-none-match'),
    ifModifiedSince: headers.get('if-modified-since'),
    ifUnmodifiedSince: headers.get('if-unmodified-since'),
  });
  if (failed === 'If-Match' || failed === 'If-Unmodified-Since') throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: failed });
  return failed ? 'not-modified' : 'proceed';
}

/**
 * The first condition that does not hold, or null. As S3 documents: If-Match holding makes
 * If-Unmodified-Since moot, and If-None-Match failing to match makes If-Modified-Since moot.
 */
function evaluate(object: S3Object, c: Conditions): string | null {
  const seconds = Math.floor(object.lastModified.getTime() / 1000);
  const since = (text: string | null) => (text === null || Number.isNaN(Date.parse(text)) ? null : Math.floor(Date.parse(text) / 1000));
  if (c.ifMatch !== null && !etagMatches(c.ifMatch, object.etag)) return 'If-Match';
  const unmodified = since(c.ifUnmodifiedSince);
  if (c.ifMatch === null && unmodified !== null && seconds > unmodified) return 'If-Unmodified-Since';
  if (c.ifNoneMatch !== null && etagMatches(c.ifNoneMatch, object.etag)) return 'If-None-Match';
  const modified = since(c.ifModifiedSince);
  if (c.ifNoneMatch === null && modified !== null && seconds <= modified) return 'If-Modified-Since';
  return null;
}

/** `*`, or a list of tags, quoted or not (clients send both), weak or strong. */
function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = etag.replace(/"/g, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '').replace(/"/g, '') === bare);
}
