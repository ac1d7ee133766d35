import type { S3Objects } from './s3-objects.ts';
import type { VerifiedSignature } from './sigv4.ts';
import type { UploadParts } from '../files/upload-parts.ts';
import type { S3Store } from './s3-store.ts';

/** One S3 request, parsed and authenticated, as every operation's handler gets it. */
export interface S3Call {
  method: string;
  /** '' for the service (ListBuckets). */
  bucket: string;
  /** '' for a bucket operation. */
  key: string;
  query: URLSearchParams;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  signed: VerifiedSignature;
}

/** What the operations work with. */
export interface S3Services {
  objects: S3Objects;
  parts: UploadParts;
  store: S3Store;
  /** What GetBucketLocation answers: '' stands for us-east-1, as S3 does. */
  region: string;
}

export type S3Handler = (call: S3Call, services: S3Services) => Promise<Response>;

export const XML_HEADERS = { 'Content-Type': 'application/xml' };

export function xmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...XML_HEADERS, ...headers } });
}

/** x-amz-meta-* headers, as S3 keeps them: names lower-case, without the prefix. */
export function userMetadata(headers: Headers): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of headers) if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  return metadata;
}

export function metadataHeaders(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [`x-amz-meta-${name}`, value]));
}

/** S3's timestamps in XML: ISO 8601 with milliseconds. */
export function isoTime(date: Date | string): string {
  return new Date(date).toISOString();
}
