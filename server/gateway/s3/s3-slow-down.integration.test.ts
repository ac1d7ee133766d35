// An S3 upload past --max-uploads is answered as S3 answers a client going too fast: 503 SlowDown
// in S3's XML with Retry-After, which SDKs and the aws CLI retry, not a Shoal JSON error.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TestCluster, waitFor } from '../../testing/cluster.ts';
import { rawUpload } from '../../testing/raw-upload.ts';

let cluster: TestCluster | undefined;
let s3: S3Client | undefined;
after(async () => {
  s3?.destroy();
  await cluster?.stop();
});

test('an S3 PUT past --max-uploads gets 503 SlowDown with Retry-After, and goes through once a slot frees', async () => {
  cluster = await TestCluster.start({ nodes: 2, replicas: 1, gatewayArgs: ['--s3-port', '0', '--max-uploads', '1'] });
  const { key, secret } = await cluster.client.createS3Key({ role: 'write' });
  s3 = new S3Client({ endpoint: cluster.s3Url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: key.id, secretAccessKey: secret }, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: 'burst' }));

  // A native upload that sends half its body and waits holds the only slot.
  let finish!: () => void;
  const finishing = new Promise<void>((resolve) => (finish = resolve));
  const held = rawUpload(cluster.url, cluster.token, 'held.bin', { 'content-length': '2048' }, async (write) => {
    await write(new Uint8Array(1024));
    await finishing;
    await write(new Uint8Array(1024));
  });

  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'burst', Key: 'late.txt' }), { expiresIn: 300 });
  let refused: Response | undefined;
  await waitFor(async () => {
    const answer = await fetch(url, { method: 'PUT', body: 'late' });
    if (answer.status === 503) refused = answer;
    else await answer.body?.cancel();
    return refused !== undefined;
  }, 30_000, 'the held upload to take the only slot');
  // The wait the gateway asks of any upload too many, as the native API says it.
  const native = await rawUpload(cluster.url, cluster.token, 'native.bin', { 'content-length': '4', expect: '100-continue' }, async (write) => {
    await write(new Uint8Array(4));
  });
  assert.equal(native.status, 503);
  assert.ok(Number(native.headers['retry-after']) > 0);
  assert.equal(refused!.headers.get('retry-after'), native.headers['retry-after']);
  assert.match(refused!.headers.get('content-type') ?? '', /xml/);
  assert.match(await refused!.text(), /<Error><Code>SlowDown<\/Code>/);

  finish();
  assert.equal((await held).status, 201);
  const retried = await fetch(url, { method: 'PUT', body: 'late' });
  assert.equal(retried.status, 200, await retried.text());
});
