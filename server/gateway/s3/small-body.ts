import { objectBody } from './request-body.ts';
import type { S3Call } from './s3-call.ts';
import { S3Error } from './s3-errors.ts';

/**
 * A request document (an XML body of a few KiB), read whole up to `limit` bytes, decoded and
 * checked like any body (the SDKs send even these aws-chunked with a checksum trailer).
 */
export async function readSmallBody(call: S3Call, limit: number): Promise<string> {
  const body = objectBody(call.headers, call.body, call.signed);
  if (body.declaredSize !== null && body.declaredSize > limit) throw new S3Error('InvalidRequest', `The request body is larger than ${limit} bytes`);
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of body.bytes) {
    size += piece.length;
    if (size > limit) throw new S3Error('InvalidRequest', `The request body is larger than ${limit} bytes`);
    pieces.push(piece);
  }
  return Buffer.concat(pieces).toString('utf8');
}
