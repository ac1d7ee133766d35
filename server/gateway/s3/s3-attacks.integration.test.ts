import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { launchBrowser } from '../../testing/browser.ts';
import { TestCluster } from '../../testing/cluster.ts';

// Attacks on the S3 port by someone holding less than an access key: a presigned URL handed out for one thing.

let cluster: TestCluster;
let s3: S3Client;

before(async () => {
  cluster = await TestCluster.start({ nodes: 1, replicas: 1, gatewayArgs: ['--s3-port', '0'] });
  const { key, secret } = await cluster.client.createS3Key({ role: 'write', name: 'attack test' });
  s3 = new S3Client({ endpoint: cluster.s3Url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: key.id, secretAccessKey: secret }, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: 'vault' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'dropbox' }));
  await s3.send(new PutObjectCommand({ Bucket: 'vault', Key: 'secret.txt', Body: 'the secret' }));
});

after(async () => {
  s3?.destroy();
  await cluster?.stop();
});

test('a presigned PUT cannot be turned into a copy of another object by adding x-amz-copy-source', async () => {
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'dropbox', Key: 'upload.txt' }), { expiresIn: 300 });
  const attack = await fetch(putUrl, { method: 'PUT', headers: { 'x-amz-copy-source': '/vault/secret.txt' } });
  assert.equal(attack.status, 403);
  assert.match(await attack.text(), /<Code>AccessDenied<\/Code><Message>There were headers present in the request which were not signed<\/Message><HeadersNotSigned>x-amz-copy-source/);
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'dropbox', Key: 'upload.txt' }), { expiresIn: 300 });
  assert.equal((await fetch(getUrl)).status, 404);

  // What the URL was made for still works.
  assert.equal((await fetch(putUrl, { method: 'PUT', body: 'mine' })).status, 200);
  assert.equal(await (await fetch(getUrl)).text(), 'mine');
});

test("the tus API cannot end an S3 multipart upload: DELETE /api/uploads/<its UploadId> finds no such upload", async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'dropbox', Key: 'parts.txt' }));
  const attack = await cluster.fetch(`/api/uploads/${UploadId}`, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(attack.status, 404);
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket: 'dropbox', Key: 'parts.txt', UploadId, PartNumber: 1, Body: 'still mine' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'dropbox', Key: 'parts.txt', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
  assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'dropbox', Key: 'parts.txt' }))).Body!.transformToString(), 'still mine');
});

test("an HTML object opened through a presigned link does not run its script on the gateway's host", async () => {
  const page = '<html><body><p id="shown">stored page</p><script>document.title = "ran " + document.cookie; fetch("/vault/secret.txt")</script></body></html>';
  await s3.send(new PutObjectCommand({ Bucket: 'dropbox', Key: 'page.html', Body: page, ContentType: 'text/html' }));
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'dropbox', Key: 'page.html' }), { expiresIn: 300 });
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage();
    const answer = await tab.goto(url);
    assert.equal(answer?.headers()['content-type'], 'text/html');
    assert.equal(await tab.textContent('#shown'), 'stored page');
    assert.equal(await tab.title(), '');
    assert.equal(await tab.evaluate(() => origin), 'null');
  } finally {
    await browser.close();
  }
});
