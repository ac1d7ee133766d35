import { createHash } from 'node:crypto';
import { ShoalError } from '../../../shared/errors.ts';
import type { PartRecord } from '../files/upload-parts.ts';
import { OWNER } from './bucket-handlers.ts';
import { encoder } from './list-objects.ts';
import { copySource, newAttributes } from './object-handlers.ts';
import { isoTime, xmlResponse, type S3Call, type S3Handler, type S3Services } from './s3-call.ts';
import { S3Error } from './s3-errors.ts';
import { iterableStream, objectName } from './s3-objects.ts';
import type { MultipartRecord } from './s3-store.ts';
import { readSmallBody } from './small-body.ts';
import { MAX_XML_BYTES, child, children, parseXml, xmlDocument, type XmlNode } from './xml.ts';

/** S3's smallest part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

export const createMultipartUpload: S3Handler = async (call, { objects, parts, store }) => {
  await objects.bucket(call.bucket);
  objectName(call.bucket, call.key);
  const id = await parts.begin();
  const attributes = newAttributes(call.headers);
  await store.createMultipart({ id, bucket: call.bucket, key: call.key, createdAt: new Date().toISOString(), ...attributes });
  return xmlResponse(
    xmlDocument('InitiateMultipartUploadResult', [
      ['Bucket', call.bucket],
      ['Key', call.key],
      ['UploadId', id],
    ]),
  );
};

export const uploadPart: S3Handler = async (call, services) => {
  const upload = await uploadOf(call, services);
  const number = partNumber(call);
  if (call.headers.has('x-amz-copy-source')) return uploadPartCopy(call, services, upload, number);
  const part = await services.objects.receive(call.headers, call.body, call.signed, (body) =>
    services.parts.put(upload.id, number, iterableStream(body.bytes), () => body.md5Hex()),
  );
  return new Response(null, { status: 200, headers: { ETag: `"${part.digest}"` } });
};

/** UploadPartCopy: a range of an object (or all of it) streamed into a part. */
async function uploadPartCopy(call: S3Call, { objects, parts }: S3Services, upload: MultipartRecord, number: number): Promise<Response> {
  const source = await copySource(call, objects);
  const size = source.file.size;
  const rangeHeader = call.headers.get('x-amz-copy-source-range');
  let range = { start: 0, end: size - 1 };
  if (rangeHeader !== null) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
    if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size) {
      throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
    }
    range = { start: Number(m[1]), end: Number(m[2]) };
  }
  const md5 = createHash('md5');
  const bytes = size === 0 ? null : await objects.open(source, range);
  const tapped = bytes?.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(piece, controller) {
        md5.update(piece);
        controller.enqueue(piece);
      },
    }),
  );
  const part = await parts.put(upload.id, number, tapped ?? null, () => md5.digest('hex'));
  return xmlResponse(
    xmlDocument('CopyPartResult', [
      ['LastModified', isoTime(part.createdAt)],
      ['ETag', `"${part.digest}"`],
    ]),
  );
}

export const completeMultipartUpload: S3Handler = async (call, services) => {
  const upload = await uploadOf(call, services);
  const document = parseXml(await readSmallBody(call, MAX_XML_BYTES));
  const listed = children(document, 'Part').map((p) => ({ number: Number(child(p, 'PartNumber')?.text), etag: (child(p, 'ETag')?.text ?? '').replace(/"/g, '').trim() }));
  if (document.name !== 'CompleteMultipartUpload' || listed.length === 0 || listed.some((p) => !Number.isInteger(p.number))) {
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  }
  for (let i = 1; i < listed.length; i++) {
    if (listed[i]!.number <= listed[i - 1]!.number) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
  }
  const stored = new Map((await services.parts.list(upload.id)).map((p) => [p.number, p]));
  for (const { number, etag } of listed) {
    if (stored.get(number)?.digest !== etag) {
      throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.', { PartNumber: String(number) });
    }
  }
  for (const [i, { number }] of listed.entries()) {
    const part = stored.get(number)!;
    if (i < listed.length - 1 && part.size < MIN_PART_BYTES) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(number), ProposedSize: String(part.size), MinSizeAllowed: String(MIN_PART_BYTES) });
    }
  }
  const etag = `"${multipartEtag(listed.map((p) => p.etag))}"`;
  const name = objectName(upload.bucket, upload.key);
  const checkUnchanged = (parts: PartRecord[]): void => {
    // A part uploaded again while this was checked is another part: refuse rather than commit it unchecked.
    if (parts.some((p, i) => p.digest !== listed[i]!.etag)) throw new S3Error('InvalidPart', 'A part was replaced while the upload completed');
  };
  const file = await services.parts.complete(upload.id, name, listed.map((p) => p.number), checkUnchanged).catch((err: unknown) => {
    throw err instanceof ShoalError && err.code === 'NOT_FOUND' ? noSuchUpload() : err;
  });
  await services.store.deleteMultipart(upload.id);
  const object = await services.objects.record(upload.bucket, file, etag, upload);
  return xmlResponse(
    xmlDocument('CompleteMultipartUploadResult', [
      ['Location', `/${upload.bucket}/${upload.key}`],
      ['Bucket', upload.bucket],
      ['Key', upload.key],
      ['ETag', object.etag],
    ]),
  );
};

export const abortMultipartUpload: S3Handler = async (call, services) => {
  const upload = await uploadOf(call, services);
  await services.parts.abort(upload.id).catch((err: unknown) => {
    if (!(err instanceof ShoalError && err.code === 'NOT_FOUND')) throw err;
  });
  await services.store.deleteMultipart(upload.id);
  return new Response(null, { status: 204 });
};

export const listParts: S3Handler = async (call, services) => {
  const upload = await uploadOf(call, services);
  const marker = Number(call.query.get('part-number-marker') ?? 0);
  const maxParts = Math.min(1000, Number(call.query.get('max-parts') ?? 1000));
  if (!Number.isInteger(marker) || !Number.isInteger(maxParts) || maxParts < 0) throw new S3Error('InvalidArgument', 'part-number-marker and max-parts must be integers');
  const after = (await services.parts.list(upload.id)).filter((p) => p.number > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  return xmlResponse(
    xmlDocument('ListPartsResult', [
      ['Bucket', upload.bucket],
      ['Key', upload.key],
      ['UploadId', upload.id],
      ['Initiator', OWNER],
      ['Owner', OWNER],
      ['StorageClass', 'STANDARD'],
      ['PartNumberMarker', marker],
      truncated && ['NextPartNumberMarker', page[page.length - 1]!.number],
      ['MaxParts', maxParts],
      ['IsTruncated', truncated],
      ...page.map(
        (p): XmlNode => [
          'Part',
          [
            ['PartNumber', p.number],
            ['LastModified', isoTime(p.createdAt)],
            ['ETag', `"${p.digest}"`],
            ['Size', p.size],
          ],
        ],
      ),
    ]),
  );
};

export const listMultipartUploads: S3Handler = async (call, { objects, store }) => {
  await objects.bucket(call.bucket);
  const prefix = call.query.get('prefix') ?? '';
  const keyMarker = call.query.get('key-marker') ?? '';
  const maxUploads = Math.min(1000, Number(call.query.get('max-uploads') ?? 1000));
  const uploads = (await store.listMultiparts(call.bucket)).filter((u) => u.key.startsWith(prefix) && u.key > keyMarker);
  const page = uploads.slice(0, maxUploads);
  const truncated = uploads.length > page.length;
  const encode = encoder(call);
  return xmlResponse(
    xmlDocument('ListMultipartUploadsResult', [
      ['Bucket', call.bucket],
      ['KeyMarker', encode(keyMarker)],
      ['UploadIdMarker', call.query.get('upload-id-marker') ?? ''],
      truncated && ['NextKeyMarker', encode(page[page.length - 1]!.key)],
      truncated && ['NextUploadIdMarker', page[page.length - 1]!.id],
      ['Prefix', encode(prefix)],
      ['MaxUploads', maxUploads],
      ['IsTruncated', truncated],
      ...page.map(
        (u): XmlNode => [
          'Upload',
          [
            ['Key', encode(u.key)],
            ['UploadId', u.id],
            ['Initiator', OWNER],
            ['Owner', OWNER],
            ['StorageClass', 'STANDARD'],
            ['Initiated', isoTime(u.createdAt)],
          ],
        ],
      ),
    ]),
  );
};

/** The upload the request names, of the bucket and key it names. */
async function uploadOf(call: S3Call, { objects, store }: S3Services): Promise<MultipartRecord> {
  await objects.bucket(call.bucket);
  const upload = await store.getMultipart(call.query.get('uploadId') ?? '');
  if (!upload || upload.bucket !== call.bucket || upload.key !== call.key) throw noSuchUpload();
  return upload;
}

function noSuchUpload(): S3Error {
  return new S3Error('NoSuchUpload', 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.');
}

function partNumber(call: S3Call): number {
  const number = Number(call.query.get('partNumber'));
  if (!Number.isInteger(number) || number < 1 || number > MAX_PART_NUMBER) throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`);
  return number;
}

/** S3's ETag of a multipart object: the MD5 of the parts' MD5s (binary, in order), then `-` and how many parts. */
export function multipartEtag(partMd5s: string[]): string {
  const md5 = createHash('md5');
  for (const hex of partMd5s) md5.update(Buffer.from(hex, 'hex'));
  return `${md5.digest('hex')}-${partMd5s.length}`;
}
