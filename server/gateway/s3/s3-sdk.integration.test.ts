import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';
import { multipartEtag } from './multipart-handlers.ts';

const MiB = 1024 * 1024;

/** Node's SHA-256 and HMAC-SHA256 in the shape @smithy/signature-v4 wants. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {}
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** A raw HTTP request, so the test chooses every header, the Host too. */
function send(url: string, options: { method: string; path: string; headers: Record<string, string>; body?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({ hostname, port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function md5(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** The S3 error code a call fails with (the SDK's name for it), or a 304's. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  try {
    await promise;
  } catch (err) {
    const e = err as S3ServiceException;
    return { code: e.name, status: e.$metadata?.httpStatusCode };
  }
  assert.fail('the call succeeded');
}

describe('S3 API through @aws-sdk/client-s3', () => {
  let cluster: TestCluster;
  let s3: S3Client;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  const client = (accessKeyId: string, secretAccessKey: string) =>
    new S3Client({ endpoint: cluster.s3Url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

  before(async () => {
    cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--s3-port', '0', '--s3-domain', 's3.shoal.test', '--gc-grace', '1s'] });
    const { key, secret } = await cluster.client.createS3Key({ role: 'write', name: 'sdk test' });
    credentials = { accessKeyId: key.id, secretAccessKey: secret };
    s3 = client(key.id, secret);
    await s3.send(new CreateBucketCommand({ Bucket: 'photos' }));
  });
  after(async () => {
    s3?.destroy();
    await cluster?.stop();
  });

  test('buckets: create, list, head, location; a second create, a bad name, deleting one not empty', async () => {
    assert.deepEqual(await failure(s3.send(new CreateBucketCommand({ Bucket: 'photos' }))), { code: 'BucketAlreadyOwnedByYou', status: 409 });
    assert.equal((await failure(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).code, 'InvalidBucketName');
    await s3.send(new CreateBucketCommand({ Bucket: 'scratch' }));
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    assert.deepEqual(names, ['photos', 'scratch']);
    await s3.send(new HeadBucketCommand({ Bucket: 'scratch' }));
    assert.equal((await failure(s3.send(new HeadBucketCommand({ Bucket: 'nothere' })))).status, 404);
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: 'scratch' }))).LocationConstraint, undefined);
    await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'x', Body: 'x' }));
    assert.deepEqual(await failure(s3.send(new DeleteBucketCommand({ Bucket: 'scratch' }))), { code: 'BucketNotEmpty', status: 409 });
    await s3.send(new DeleteObjectCommand({ Bucket: 'scratch', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'scratch' }));
    assert.equal((await failure(s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'x', Body: 'x' })))).code, 'NoSuchBucket');
  });

  test('an object keeps its bytes, Content-Type and metadata; its ETag is its MD5; the native API sees it, and the other way round', async () => {
    const body = randomBytesSeeded(3 * MiB + 17, 3);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'cats/tabby.jpg', Body: body, ContentType: 'image/jpeg', Metadata: { camera: 'Nikon F3', 'shot-at': 'dawn' } }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'cats/tabby.jpg' }));
    assert.equal(head.ContentType, 'image/jpeg');
    assert.equal(head.ContentLength, body.length);
    assert.deepEqual(head.Metadata, { camera: 'Nikon F3', 'shot-at': 'dawn' });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'cats/tabby.jpg' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));

    const listed = (await cluster.client.list()).find((f) => f.name === 'photos/cats/tabby.jpg');
    assert.equal(listed?.size, body.length);
    const native = await cluster.fetch(cluster.client.fileUrl('photos/cats/tabby.jpg'));
    assert.equal(native.status, 200);
    assert.ok(Buffer.from(await native.arrayBuffer()).equals(body), 'the native API serves the bytes S3 stored');

    await cluster.client.upload('photos/native.bin', new TextEncoder().encode('stored natively'));
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'photos' }))).Contents!.map((c) => c.Key);
    assert.ok(keys.includes('photos/native.bin'.slice('photos/'.length)));
    const nativeObject = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'native.bin' }));
    assert.equal(await nativeObject.Body!.transformToString(), 'stored natively');
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'missing' })))).code, 'NoSuchKey');

    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'empty', Body: '' }));
    const empty = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'empty' }));
    assert.equal(empty.ETag, `"${md5('')}"`);
    assert.equal(await empty.Body!.transformToString(), '');
  });

  test('conditional writes: If-None-Match: * creates only, If-Match replaces only that version', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'once.txt', Body: 'first', IfNoneMatch: '*' }));
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'once.txt', Body: 'second', IfNoneMatch: '*' }))), { code: 'PreconditionFailed', status: 412 });
    assert.equal((await failure(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'once.txt', Body: 'third', IfMatch: '"0000"' })))).code, 'PreconditionFailed');
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'once.txt', Body: 'fourth', IfMatch: `"${md5('first')}"` }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'once.txt' }))).Body!.transformToString(), 'fourth');
  });

  test('Content-MD5 is checked: a wrong one is BadDigest and stores nothing', async () => {
    const wrong = createHash('md5').update('something else').digest('base64');
    assert.equal((await failure(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'digest.txt', Body: 'payload', ContentMD5: wrong })))).code, 'BadDigest');
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'digest.txt' })))).status, 404);
    const right = createHash('md5').update('payload').digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'digest.txt', Body: 'payload', ContentMD5: right }));
  });

  test('ranged gets, and an unsatisfiable range', async () => {
    const body = randomBytesSeeded(9 * MiB + 5, 4);
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'ranged.bin', Body: body }));
    for (const [range, start, end] of [
      ['bytes=0-9', 0, 9],
      ['bytes=4194300-4194310', 4194300, 4194310],
      [`bytes=${body.length - 100}-`, body.length - 100, body.length - 1],
      ['bytes=-7', body.length - 7, body.length - 1],
    ] as const) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'ranged.bin', Range: range }));
      assert.equal(got.ContentRange, `bytes ${start}-${end}/${body.length}`);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body.subarray(start, end + 1)), range);
    }
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'ranged.bin', Range: `bytes=${body.length}-` }))), { code: 'InvalidRange', status: 416 });
  });

  test('conditional gets: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'cond.txt', Body: 'conditional' }));
    const get = (conditions: Partial<{ IfMatch: string; IfNoneMatch: string; IfModifiedSince: Date; IfUnmodifiedSince: Date }>) =>
      s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'cond.txt', ...conditions }));
    assert.equal(await (await get({ IfMatch: ETag })).Body!.transformToString(), 'conditional');
    assert.deepEqual(await failure(get({ IfMatch: '"0123"' })), { code: 'PreconditionFailed', status: 412 });
    assert.equal((await failure(get({ IfNoneMatch: ETag }))).status, 304);
    const later = new Date(Date.now() + 3600_000);
    const earlier = new Date(Date.now() - 3600_000);
    assert.equal((await failure(get({ IfModifiedSince: later }))).status, 304);
    assert.equal(await (await get({ IfModifiedSince: earlier })).Body!.transformToString(), 'conditional');
    assert.equal((await failure(get({ IfUnmodifiedSince: earlier }))).status, 412);
    // If-Match holding makes If-Unmodified-Since moot, as S3 documents.
    assert.equal(await (await get({ IfMatch: ETag, IfUnmodifiedSince: earlier })).Body!.transformToString(), 'conditional');
  });

  test('a 50 MiB multipart upload through lib-storage comes back byte-identical with the md5-of-md5s ETag', async () => {
    const body = randomBytesSeeded(50 * MiB + 123, 5);
    const partSize = 8 * MiB;
    const upload = new Upload({ client: s3, params: { Bucket: 'photos', Key: 'big/video.bin', Body: body, ContentType: 'video/mp4' }, partSize, queueSize: 3 });
    const done = await upload.done();
    const partMd5s: string[] = [];
    for (let at = 0; at < body.length; at += partSize) partMd5s.push(md5(body.subarray(at, at + partSize)));
    assert.equal(done.ETag, `"${multipartEtag(partMd5s)}"`);
    assert.match(done.ETag!, /-7"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big/video.bin' }));
    assert.equal(got.ContentType, 'video/mp4');
    assert.equal(got.ETag, done.ETag);
    const back = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(back.length, body.length);
    assert.ok(back.equals(body), 'the multipart object differs');
    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big/video.bin', Range: `bytes=${partSize - 10}-${partSize + 10}` }));
    assert.ok(Buffer.from(await ranged.Body!.transformToByteArray()).equals(body.subarray(partSize - 10, partSize + 11)), 'a range across parts');
  });

  test('multipart: list parts and uploads, UploadPartCopy, and the refusals (order, unknown part, small part, unknown upload)', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'photos', Key: 'mp/assembled.bin' }));
    const small = randomBytesSeeded(1000, 6);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'photos', Key: 'mp/assembled.bin', UploadId, PartNumber: 1, Body: small }));
    const p2 = await s3.send(
      new UploadPartCopyCommand({ Bucket: 'photos', Key: 'mp/assembled.bin', UploadId, PartNumber: 2, CopySource: 'photos/cond.txt', CopySourceRange: 'bytes=0-3' }),
    );
    assert.equal(p2.CopyPartResult?.ETag, `"${md5('cond')}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'photos', Key: 'mp/assembled.bin', UploadId }));
    assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.Size]), [[1, 1000], [2, 4]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'photos' }));
    assert.ok(uploads.Uploads!.some((u) => u.UploadId === UploadId && u.Key === 'mp/assembled.bin'));
    const complete = (list: Array<{ PartNumber: number; ETag: string }>) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'photos', Key: 'mp/assembled.bin', UploadId, MultipartUpload: { Parts: list } }));
    const e1 = { PartNumber: 1, ETag: p1.ETag! };
    const e2 = { PartNumber: 2, ETag: p2.CopyPartResult!.ETag! };
    assert.equal((await failure(complete([e2, e1]))).code, 'InvalidPartOrder');
    assert.equal((await failure(complete([e1, { PartNumber: 3, ETag: e2.ETag }]))).code, 'InvalidPart');
    assert.equal((await failure(complete([e1, { PartNumber: 2, ETag: '"00000000000000000000000000000000"' }]))).code, 'InvalidPart');
    assert.equal((await failure(complete([e1, e2]))).code, 'EntityTooSmall');
    const single = await complete([e1]);
    assert.equal(single.ETag, `"${multipartEtag([md5(small)])}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'mp/assembled.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(small));
    assert.equal((await failure(s3.send(new ListPartsCommand({ Bucket: 'photos', Key: 'mp/assembled.bin', UploadId })))).code, 'NoSuchUpload');
  });

  test('an aborted upload releases its parts: their chunks leave the nodes', async () => {
    const nodes = ['node1', 'node2', 'node3'];
    const before = new Set((await Promise.all(nodes.map((id) => cluster.chunkFiles(id)))).flat());
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'photos', Key: 'aborted.bin' }));
    for (const PartNumber of [1, 2]) {
      await s3.send(new UploadPartCommand({ Bucket: 'photos', Key: 'aborted.bin', UploadId, PartNumber, Body: randomBytesSeeded(5 * MiB, 100 + PartNumber) }));
    }
    const during = (await Promise.all(nodes.map((id) => cluster.chunkFiles(id)))).flat().filter((path) => !before.has(path));
    assert.ok(during.length >= 4, `the parts are on the nodes (${during.length} new chunk files)`);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'photos', Key: 'aborted.bin', UploadId }));
    assert.equal((await failure(s3.send(new ListPartsCommand({ Bucket: 'photos', Key: 'aborted.bin', UploadId })))).code, 'NoSuchUpload');
    await waitFor(
      async () => {
        const now = new Set((await Promise.all(nodes.map((id) => cluster.chunkFiles(id)))).flat());
        return during.every((path) => !now.has(path));
      },
      30_000,
      "the aborted parts' chunks collected",
    );
  });

  test('listing 1,200 keys: delimiters, common prefixes, pages of v2 and v1, start-after, url encoding', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many' }));
    const keys = Array.from({ length: 1200 }, (_, i) => `dir${i % 12}/file ${String(i).padStart(4, '0')}+x.txt`);
    for (let at = 0; at < keys.length; at += 16) {
      await Promise.all(keys.slice(at, at + 16).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'many', Key, Body: Key }))));
    }
    const sorted = [...keys].sort();

    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/' }));
    assert.deepEqual(top.CommonPrefixes!.map((p) => p.Prefix), Array.from({ length: 12 }, (_, i) => `dir${i}/`).sort());
    assert.equal(top.Contents, undefined);

    const paged: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'many', MaxKeys: 500, ContinuationToken: token }));
      paged.push(...page.Contents!.map((c) => c.Key!));
      token = page.NextContinuationToken;
      pages++;
      assert.equal(page.IsTruncated, token !== undefined);
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(paged, sorted);

    const prefixPages: string[] = [];
    let marker: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/', MaxKeys: 5, ContinuationToken: marker }));
      prefixPages.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      marker = page.NextContinuationToken;
    } while (marker);
    assert.equal(prefixPages.length, 12, 'common prefixes are paged, each once');

    const v1: string[] = [];
    let v1Marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: 'many', Prefix: 'dir3/', MaxKeys: 40, Marker: v1Marker }));
      v1.push(...page.Contents!.map((c) => c.Key!));
      if (!page.IsTruncated) break;
      v1Marker = page.NextMarker ?? page.Contents!.at(-1)!.Key;
    }
    assert.deepEqual(v1, sorted.filter((k) => k.startsWith('dir3/')));

    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'dir1/', StartAfter: sorted.filter((k) => k.startsWith('dir1/'))[97] }));
    assert.deepEqual(after.Contents!.map((c) => c.Key), sorted.filter((k) => k.startsWith('dir1/')).slice(98));

    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'dir0/', MaxKeys: 1, EncodingType: 'url' }));
    assert.equal(encoded.EncodingType, 'url');
    assert.equal(encoded.Contents![0]!.Key, encodeURIComponent(sorted[0]!).replace(/%2F/g, '/'));
  });

  test('copy: metadata copied or replaced, copy-source conditions, copying onto itself', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'orig.txt', Body: 'original', ContentType: 'text/plain', Metadata: { a: '1' } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'copy.txt', CopySource: 'photos/orig.txt' }));
    assert.equal(copied.CopyObjectResult?.ETag, `"${md5('original')}"`);
    const copy = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'copy.txt' }));
    assert.equal(await copy.Body!.transformToString(), 'original');
    assert.equal(copy.ContentType, 'text/plain');
    assert.deepEqual(copy.Metadata, { a: '1' });

    await s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'copy.txt', CopySource: 'photos/orig.txt', MetadataDirective: 'REPLACE', ContentType: 'text/markdown', Metadata: { b: '2' } }));
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'copy.txt' }));
    assert.equal(replaced.ContentType, 'text/markdown');
    assert.deepEqual(replaced.Metadata, { b: '2' });

    assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'c2.txt', CopySource: 'photos/orig.txt', CopySourceIfMatch: '"nope"' })))).code, 'PreconditionFailed');
    assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'c2.txt', CopySource: 'photos/orig.txt', CopySourceIfNoneMatch: `"${md5('original')}"` })))).code, 'PreconditionFailed');
    assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'orig.txt', CopySource: 'photos/orig.txt' })))).code, 'InvalidRequest');
    assert.equal((await failure(s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'c3.txt', CopySource: 'photos/none.txt' })))).code, 'NoSuchKey');
  });

  test('batch delete: deleted keys, quiet mode, a key that is not there', async () => {
    for (const Key of ['del/a', 'del/b', 'del/c']) await s3.send(new PutObjectCommand({ Bucket: 'photos', Key, Body: Key }));
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: 'photos', Delete: { Objects: [{ Key: 'del/a' }, { Key: 'del/b' }, { Key: 'del/never' }] } }));
    assert.deepEqual(result.Deleted!.map((d) => d.Key).sort(), ['del/a', 'del/b', 'del/never']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'photos', Delete: { Objects: [{ Key: 'del/c' }], Quiet: true } }));
    assert.equal(quiet.Deleted, undefined);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'del/' }));
    assert.equal(left.KeyCount, 0);
  });

  test('presigned GET and PUT, and an expired link', async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'photos', Key: 'presigned.txt' }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'sent with a presigned URL' });
    assert.equal(put.status, 200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'photos', Key: 'presigned.txt' }), { expiresIn: 300 });
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'sent with a presigned URL');
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'photos', Key: 'presigned.txt' }), { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
    const expired = await fetch(old);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
    const tampered = await fetch(getUrl.replace('presigned.txt', 'orig.txt'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /SignatureDoesNotMatch/);
  });

  test('authentication: a wrong secret, an unknown key, a revoked key, a read key writing, no signature, a skewed clock', async () => {
    assert.deepEqual(await failure(client(credentials.accessKeyId, 'not-the-secret').send(new ListBucketsCommand({}))), { code: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(await failure(client('SHLNOSUCHKEY000000000', 'x').send(new ListBucketsCommand({}))), { code: 'InvalidAccessKeyId', status: 403 });
    const reader = await cluster.client.createS3Key({ role: 'read' });
    const readOnly = client(reader.key.id, reader.secret);
    assert.equal((await readOnly.send(new GetObjectCommand({ Bucket: 'photos', Key: 'orig.txt' }))).ContentLength, 'original'.length);
    assert.deepEqual(await failure(readOnly.send(new PutObjectCommand({ Bucket: 'photos', Key: 'nope', Body: 'x' }))), { code: 'AccessDenied', status: 403 });
    assert.equal((await failure(readOnly.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'orig.txt' })))).code, 'AccessDenied');
    await cluster.client.revokeS3Key(reader.key.id);
    assert.equal((await failure(readOnly.send(new ListBucketsCommand({})))).code, 'InvalidAccessKeyId');
    assert.ok((await cluster.client.s3Keys()).some((k) => k.id === reader.key.id && k.revokedAt !== null));

    const anonymous = await fetch(`${cluster.s3Url}/photos/orig.txt`);
    assert.equal(anonymous.status, 403);
    const skewed = new S3Client({ endpoint: cluster.s3Url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1, systemClockOffset: -3600_000 });
    assert.equal((await failure(skewed.send(new ListBucketsCommand({})))).code, 'RequestTimeTooSkewed');
  });

  /**
   * A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, as SDKs in other languages send: the seed signature
   * by @smithy/signature-v4, each chunk's signature over the one before, as AWS documents it.
   */
  async function signedStreamingPut(key: string, chunks: Buffer[], tamper: boolean): Promise<{ status: number; body: string }> {
    const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
    const { port } = new URL(cluster.s3Url);
    const host = `photos.s3.shoal.test:${port}`;
    const decoded = chunks.reduce((sum, c) => sum + c.length, 0);
    const signingDate = new Date();
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: `photos.s3.shoal.test`,
        port: Number(port),
        path: `/${key}`,
        query: {},
        headers: {
          host,
          'content-encoding': 'aws-chunked',
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'x-amz-decoded-content-length': String(decoded),
        },
      },
      { signingDate },
    );
    const seed = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization!)![1]!;
    const amzDate = signed.headers['x-amz-date']!;
    const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
    let previous = seed;
    const framed: Buffer[] = [];
    for (const chunk of [...chunks, Buffer.alloc(0)]) {
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha(''), sha(chunk)].join('\n');
      previous = (await signer.sign(toSign, { signingDate })) as unknown as string;
      const sent = tamper && chunk.length > 0 ? Buffer.from(chunk).fill(0x41, 0, 1) : chunk;
      framed.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), sent, Buffer.from('\r\n'));
    }
    const body = Buffer.concat(framed);
    return send(cluster.s3Url, { method: 'PUT', path: `/${key}`, headers: { ...signed.headers, 'content-length': String(body.length) }, body });
  }

  test('a signed streaming body, virtual-hosted style: stored when every chunk signature holds, refused when a chunk was altered', async () => {
    const chunks = [21, 22, 23].map((seed, i) => Buffer.from(randomBytesSeeded(i === 2 ? 1000 : 65536, seed)));
    const ok = await signedStreamingPut('streamed/ok.bin', chunks, false);
    assert.equal(ok.status, 200, ok.body);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'streamed/ok.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(chunks)));
    const forged = await signedStreamingPut('streamed/forged.bin', chunks, true);
    assert.equal(forged.status, 403);
    assert.match(forged.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'streamed/forged.bin' })))).status, 404, 'nothing of a forged body is stored');
  });

  test('streamed bodies with checksum trailers (crc32, crc32c, sha256) are verified', async () => {
    const { Readable } = await import('node:stream');
    for (const algorithm of ['CRC32', 'CRC32C', 'SHA256'] as const) {
      const body = randomBytesSeeded(300_000, 30);
      await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: `trailer/${algorithm}`, Body: Readable.from([body.subarray(0, 100_000), body.subarray(100_000)]), ContentLength: body.length, ChecksumAlgorithm: algorithm }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: `trailer/${algorithm}` }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), algorithm);
    }
    const wrongCrc = await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'trailer/bad', Body: 'abc', ChecksumCRC32: 'AAAAAA==' })).then(
      () => 'stored',
      (err: S3ServiceException) => err.name,
    );
    assert.equal(wrongCrc, 'BadDigest');
  });

  test('a multipart upload outlives a gateway restart: its parts are kept, pinned again, and complete', async () => {
    const first = randomBytesSeeded(5 * MiB, 40);
    const last = randomBytesSeeded(1234, 41);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'photos', Key: 'restart.bin' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'photos', Key: 'restart.bin', UploadId, PartNumber: 1, Body: first }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'photos', Key: 'restart.bin', UploadId, PartNumber: 2, Body: last }));
    await cluster.kill(cluster.gateway, 'SIGTERM');
    await cluster.startGateway();
    await cluster.waitForOnline(3);
    s3.destroy();
    s3 = client(credentials.accessKeyId, credentials.secretAccessKey);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'photos',
        Key: 'restart.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'restart.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([first, last])));
  });

  // Last: it spends this address's allowance of failed authentications.
  test('failed authentications are rate limited: past the allowance even a good signature waits (SlowDown, Retry-After)', async () => {
    const wrong = client(credentials.accessKeyId, 'not-the-secret');
    let code = '';
    for (let i = 0; i < 20 && code !== 'SlowDown'; i++) code = (await failure(wrong.send(new ListBucketsCommand({})))).code;
    assert.equal(code, 'SlowDown');
    const limited = await failure(s3.send(new ListBucketsCommand({})));
    assert.deepEqual(limited, { code: 'SlowDown', status: 503 });
  });
});
