import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FailedAttempts } from '../auth/failed-attempts.ts';
import type { HttpMetrics } from '../status/http-metrics.ts';
import { roleAllows, type Role } from '../auth/roles.ts';
import type { AccessKeys } from './access-keys.ts';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './bucket-handlers.ts';
import { deleteObjects } from './delete-objects.ts';
import { listObjectsV1, listObjectsV2 } from './list-objects.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './multipart-handlers.ts';
import { copyObject, deleteObject, getObject, putObject } from './object-handlers.ts';
import type { S3Call, S3Handler, S3Services } from './s3-call.ts';
import { S3Error, toS3Error } from './s3-errors.ts';
import { parseSignature, verifySignature, type VerifiedSignature } from './sigv4.ts';
import { escapeXml } from './xml.ts';

export interface S3AppOptions {
  /** With a domain, `bucket.<domain>` addresses bucket `bucket` (virtual-hosted style); path style works always. */
  domain?: string;
  /** Failed authentications by address, shared with the native API: past its allowance a client waits. */
  failures: FailedAttempts;
  /** Counts every request by its operation (the handler's name: putObject, listObjectsV2...). */
  metrics?: HttpMetrics;
}

/** Subresources S3 has that this gateway does not implement: asked for, they get NotImplemented rather than a wrong answer. */
const UNSUPPORTED = [
  'acl',
  'analytics',
  'accelerate',
  'attributes',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
  'versioning',
  'versions',
  'website',
];

interface Route {
  handler: S3Handler;
  /** The least role that may call it. */
  role: Role;
}

/** Which operation a request is: by what it addresses (service, bucket, object), its method and its subresource. */
function route(call: S3Call): Route {
  const q = call.query;
  const read = (handler: S3Handler): Route => ({ handler, role: 'read' });
  const write = (handler: S3Handler): Route => ({ handler, role: 'write' });
  const unsupported = UNSUPPORTED.find((name) => q.has(name));
  if (unsupported) throw new S3Error('NotImplemented', `The ${unsupported} subresource is not implemented by Shoal`);
  const m = call.method;
  if (call.bucket === '') {
    if (m === 'GET') return read(listBuckets);
  } else if (call.key === '') {
    if (m === 'GET' && q.has('location')) return read(getBucketLocation);
    if (m === 'GET' && q.has('uploads')) return read(listMultipartUploads);
    if (m === 'GET' && q.get('list-type') === '2') return read(listObjectsV2);
    if (m === 'GET') return read(listObjectsV1);
    if (m === 'HEAD') return read(headBucket);
    if (m === 'PUT') return write(createBucket);
    if (m === 'DELETE') return write(deleteBucket);
    if (m === 'POST' && q.has('delete')) return write(deleteObjects);
  } else {
    if ((m === 'GET' || m === 'HEAD') && q.has('uploadId')) return read(listParts);
    if (m === 'GET' || m === 'HEAD') return read(getObject);
    if (m === 'PUT' && q.has('uploadId')) return write(uploadPart);
    if (m === 'PUT' && call.headers.has('x-amz-copy-source')) return write(copyObject);
    if (m === 'PUT') return write(putObject);
    if (m === 'DELETE' && q.has('uploadId')) return write(abortMultipartUpload);
    if (m === 'DELETE') return write(deleteObject);
    if (m === 'POST' && q.has('uploads')) return write(createMultipartUpload);
    if (m === 'POST' && q.has('uploadId')) return write(completeMultipartUpload);
  }
  throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

/**
 * The S3 API as a fetch handler for its own port: finds the bucket and key (path style, or
 * virtual-hosted under `domain`), proves the caller's signature with its access key's secret,
 * checks the key's role, and runs the operation. Every failure is answered as S3's XML error.
 */
export function createS3Handler(services: S3Services, keys: AccessKeys, options: S3AppOptions) {
  const serve = answer(services, keys, options);
  return async (request: Request, env?: { incoming?: IncomingMessage; outgoing?: ServerResponse }): Promise<Response> => {
    const startedAt = performance.now();
    const called = { operation: 'unauthenticated' };
    const response = await serve(request, env, called);
    withObjectSafety(response.headers);
    options.metrics?.record({ api: 's3', method: request.method, operation: called.operation, status: response.status }, startedAt, env?.incoming, env?.outgoing);
    return response;
  };
}

/**
 * S3 serves an object with the Content-Type it was stored with, so a browser opening a presigned
 * link to an HTML or SVG object would run its scripts on this host, where cookies are shared
 * with the dashboard's port. A sandboxed CSP gives such a page an opaque origin and no scripts,
 * without changing the bytes or the type S3 clients rely on; no Referer leaks the signed link.
 */
function withObjectSafety(headers: Headers): void {
  headers.set('X-Content-Type-Options', 'nosniff');
  headers.set('Content-Security-Policy', 'sandbox');
  headers.set('Referrer-Policy', 'no-referrer');
}

/** The S3 API's answer to one request; `called.operation` names the operation once the caller is authenticated. */
function answer(services: S3Services, keys: AccessKeys, options: S3AppOptions) {
  return async (request: Request, env: { incoming?: IncomingMessage } | undefined, called: { operation: string }): Promise<Response> => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const target = env?.incoming?.url ?? new URL(request.url).pathname + new URL(request.url).search;
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1);
    let resource = rawPath;
    const address = env?.incoming?.socket.remoteAddress ?? 'unknown';
    try {
      const { bucket, key } = bucketAndKey(rawPath, request.headers.get('host') ?? '', options.domain);
      resource = bucket === '' ? '/' : `/${bucket}/${key}`;
      const wait = options.failures.retryAfterSeconds(address);
      if (wait > 0) throw new S3Error('SlowDown', `Too many failed authentications from ${address}: try again in ${wait} s`, { RetryAfterSeconds: String(wait) });
      const input = { method: request.method, rawPath, rawQuery, headers: request.headers };
      const claim = parseSignature(input, Date.now());
      if (!claim) throw new S3Error('AccessDenied', 'Anonymous access is not allowed: sign requests with an access key (shoal s3 key create)');
      const found = await keys.active(claim.accessKeyId);
      if (!found) {
        options.failures.failed(address);
        throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
      }
      let signed: VerifiedSignature;
      try {
        signed = verifySignature(claim, input, found.secret);
      } catch (err) {
        if (err instanceof S3Error && err.code === 'SignatureDoesNotMatch') options.failures.failed(address);
        throw err;
      }
      const call: S3Call = { method: request.method, bucket, key, query: new URLSearchParams(rawQuery), headers: request.headers, body: request.body, signed };
      const { handler, role } = route(call);
      called.operation = handler.name;
      if (!roleAllows(found.role, role)) throw new S3Error('AccessDenied', `Access Denied: the key's role ${found.role} may not do this (${role} needed)`);
      const response = await handler(call, services);
      response.headers.set('x-amz-request-id', requestId);
      return response;
    } catch (err) {
      return errorResponse(err, request.method, resource, requestId);
    }
  };
}

/** Bucket and key, decoded, from the path (path style) or the Host (virtual-hosted style). */
function bucketAndKey(rawPath: string, host: string, domain: string | undefined): { bucket: string; key: string } {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const path = rawPath.replace(/^\//, '');
  if (domain && hostname.endsWith(`.${domain}`)) return { bucket: hostname.slice(0, -domain.length - 1), key: decodePath(path) };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decodePath(path), key: '' };
  return { bucket: decodePath(path.slice(0, slash)), key: decodePath(path.slice(slash + 1)) };
}

function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidArgument', 'The path is not valid percent-encoding');
  }
}

function errorResponse(err: unknown, method: string, resource: string, requestId: string): Response {
  const e = toS3Error(err);
  if (e.code === 'InternalError') console.error(err);
  const headers: Record<string, string> = { 'x-amz-request-id': requestId };
  if (e.code === 'SlowDown') headers['Retry-After'] = e.details.RetryAfterSeconds ?? '1';
  // A HEAD's answer has no body: the status is all the client learns.
  if (method === 'HEAD') return new Response(null, { status: e.status, headers });
  const details = Object.entries(e.details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message>${details}` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, { status: e.status, headers: { ...headers, 'Content-Type': 'application/xml' } });
}
