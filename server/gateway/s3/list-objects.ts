import { OWNER } from './bucket-handlers.ts';
import { isoTime, xmlResponse, type S3Call, type S3Handler, type S3Services } from './s3-call.ts';
import { S3Error } from './s3-errors.ts';
import type { S3Object } from './s3-objects.ts';
import { uriEncode } from './sigv4.ts';
import { xmlDocument, type XmlNode } from './xml.ts';

const MAX_KEYS = 1000;
/** Files fetched per step of a listing's walk. */
const BATCH = 1000;

interface Page {
  objects: S3Object[];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix listed: where the next page starts. */
  last: string;
}

/**
 * One page of a bucket's keys under `prefix`, after `marker`, with keys that hold `delimiter` past
 * the prefix rolled up into common prefixes (each counts once toward max-keys).
 */
async function listPage(call: S3Call, { objects }: S3Services, marker: string): Promise<Page & { prefix: string; delimiter: string; maxKeys: number }> {
  await objects.bucket(call.bucket);
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = call.query.get('delimiter') ?? '';
  const maxText = call.query.get('max-keys');
  const maxKeys = maxText === null ? MAX_KEYS : Number(maxText);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range');
  const limit = Math.min(maxKeys, MAX_KEYS);
  const encoding = call.query.get('encoding-type');
  if (encoding !== null && encoding !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');

  const page: Page = { objects: [], prefixes: [], truncated: false, last: '' };
  // A marker that is a common prefix (the last of a page) stands for every key under it.
  let lastPrefix = marker;
  let after = marker > prefix ? marker : '';
  let count = 0;
  walk: for (;;) {
    const files = await objects.files(call.bucket, prefix, after, BATCH);
    const described = await objects.describe(call.bucket, files);
    for (const object of described) {
      const cut = delimiter === '' ? -1 : object.key.indexOf(delimiter, prefix.length);
      const item = cut < 0 ? object.key : object.key.slice(0, cut + delimiter.length);
      if (cut >= 0 && item === lastPrefix) continue;
      if (count >= limit) {
        page.truncated = true;
        break walk;
      }
      count++;
      page.last = item;
      if (cut >= 0) {
        page.prefixes.push(item);
        lastPrefix = item;
      } else page.objects.push(object);
    }
    if (files.length < BATCH) break;
    after = described[described.length - 1]!.key;
  }
  return { ...page, prefix, delimiter, maxKeys };
}

export const listObjectsV2: S3Handler = async (call, services) => {
  const token = call.query.get('continuation-token');
  const startAfter = call.query.get('start-after') ?? '';
  let marker = startAfter;
  if (token !== null) {
    marker = Buffer.from(token, 'base64url').toString('utf8');
    if (Buffer.from(marker, 'utf8').toString('base64url') !== token) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect');
  }
  const page = await listPage(call, services, marker);
  const encode = encoder(call);
  const withOwner = call.query.get('fetch-owner') === 'true';
  return xmlResponse(
    xmlDocument('ListBucketResult', [
      ['Name', call.bucket],
      ['Prefix', encode(page.prefix)],
      call.query.has('start-after') && ['StartAfter', encode(startAfter)],
      token !== null && ['ContinuationToken', token],
      page.truncated && ['NextContinuationToken', Buffer.from(page.last, 'utf8').toString('base64url')],
      ['KeyCount', page.objects.length + page.prefixes.length],
      ['MaxKeys', page.maxKeys],
      page.delimiter !== '' && ['Delimiter', encode(page.delimiter)],
      call.query.get('encoding-type') === 'url' && ['EncodingType', 'url'],
      ['IsTruncated', page.truncated],
      ...contents(page, encode, withOwner),
    ]),
  );
};

export const listObjectsV1: S3Handler = async (call, services) => {
  const marker = call.query.get('marker') ?? '';
  const page = await listPage(call, services, marker);
  const encode = encoder(call);
  return xmlResponse(
    xmlDocument('ListBucketResult', [
      ['Name', call.bucket],
      ['Prefix', encode(page.prefix)],
      ['Marker', encode(marker)],
      page.truncated && ['NextMarker', encode(page.last)],
      ['MaxKeys', page.maxKeys],
      page.delimiter !== '' && ['Delimiter', encode(page.delimiter)],
      call.query.get('encoding-type') === 'url' && ['EncodingType', 'url'],
      ['IsTruncated', page.truncated],
      ...contents(page, encode, true),
    ]),
  );
};

function contents(page: Page, encode: (text: string) => string, withOwner: boolean): XmlNode[] {
  return [
    ...page.objects.map(
      (o): XmlNode => [
        'Contents',
        [
          ['Key', encode(o.key)],
          ['LastModified', isoTime(o.lastModified)],
          ['ETag', o.etag],
          ['Size', o.file.size],
          withOwner && ['Owner', OWNER],
          ['StorageClass', 'STANDARD'],
        ],
      ],
    ),
    ...page.prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', encode(p)]]]),
  ];
}

/** With encoding-type=url, names in the answer are percent-encoded (slashes kept), so any key survives XML. */
export function encoder(call: S3Call): (text: string) => string {
  return call.query.get('encoding-type') === 'url' ? (text) => uriEncode(text).replace(/%2F/g, '/') : (text) => text;
}
