import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { TestCluster } from '../testing/cluster.ts';
import { timed } from './timed.ts';

export interface S3BenchResult {
  s3PutMBps: number;
  s3GetMBps: number;
  s3SmallPutPerS: number;
  s3SmallGetPerS: number;
}

const MiB = 1024 * 1024;
/** What one piece of the streamed body is: a fresh buffer each time, so nothing dedups. */
const PIECE = 1 * MiB;

/**
 * The S3 API as @aws-sdk/client-s3 sees it, on a cluster started with --s3-port: one object of
 * `bytes` put as a stream (the SDK sends it aws-chunked with a CRC32 trailer) and got back, then
 * `smallCount` 1 KiB objects put and got, 16 at once.
 */
export async function benchS3(cluster: TestCluster, bytes: number, smallCount: number): Promise<S3BenchResult> {
  const { key, secret } = await cluster.client.createS3Key({ role: 'write', name: 'bench' });
  const s3 = new S3Client({
    endpoint: cluster.s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.id, secretAccessKey: secret },
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 32 }) },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const put = await timed(() => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'large.bin', Body: Readable.from(pieces(bytes)), ContentLength: bytes })));
    const get = await timed(async () => {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'large.bin' }));
      let received = 0;
      for await (const piece of object.Body as AsyncIterable<Uint8Array>) received += piece.length;
      if (received !== bytes) throw new Error(`got ${received} bytes back, expected ${bytes}`);
    });
    const small = Array.from({ length: smallCount }, () => randomBytes(1024));
    const smallPut = await timed(() => atOnce(16, smallCount, (i) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `small/${i}`, Body: small[i] }))));
    const smallGet = await timed(() =>
      atOnce(16, smallCount, async (i) => {
        const object = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `small/${i}` }));
        await object.Body!.transformToByteArray();
      }),
    );
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      s3PutMBps: round(bytes / 1e6 / put.seconds),
      s3GetMBps: round(bytes / 1e6 / get.seconds),
      s3SmallPutPerS: Math.round(smallCount / smallPut.seconds),
      s3SmallGetPerS: Math.round(smallCount / smallGet.seconds),
    };
  } finally {
    s3.destroy();
  }
}

function* pieces(bytes: number): Generator<Buffer> {
  for (let sent = 0; sent < bytes; sent += PIECE) yield randomBytes(Math.min(PIECE, bytes - sent));
}

async function atOnce(concurrency: number, count: number, each: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await each(next++);
    }),
  );
}
