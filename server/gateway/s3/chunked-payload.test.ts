import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { decodeAwsChunked } from './chunked-payload.ts';
import { crc32c } from './checksums.ts';
import { S3Error } from './s3-errors.ts';

/** An unsigned aws-chunked body of `chunks` with `trailers`, as the SDKs send STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
function encode(chunks: Buffer[], trailers: string[]): Buffer {
  const parts = chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]);
  return Buffer.concat([...parts, Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`)]);
}

async function decode(body: Buffer, pieceSize: number): Promise<{ data: Buffer; trailers: Map<string, string> }> {
  async function* pieces() {
    for (let at = 0; at < body.length; at += pieceSize) yield body.subarray(at, at + pieceSize);
  }
  const trailers = new Map<string, string>();
  const out: Uint8Array[] = [];
  for await (const piece of decodeAwsChunked(pieces(), null, trailers)) out.push(piece);
  return { data: Buffer.concat(out), trailers };
}

test('a body decodes the same however the network cuts it, trailers included', async () => {
  const chunks = [Buffer.alloc(70_000, 1), Buffer.from('middle'), Buffer.alloc(3000, 7)];
  const body = encode(chunks, ['x-amz-checksum-crc32:AAAAAA==']);
  for (const size of [1, 2, 3, 7, 64, 4096, 65536, body.length]) {
    const { data, trailers } = await decode(body, size);
    assert.ok(data.equals(Buffer.concat(chunks)), `pieces of ${size}`);
    assert.equal(trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
  }
});

test('malformed bodies are IncompleteBody, not a crash or a short object', async () => {
  const good = encode([Buffer.from('hello')], []);
  for (const bad of [good.subarray(0, good.length - 6), Buffer.from('zz\r\nhello\r\n0\r\n\r\n'), Buffer.from('3\r\nhello\r\n0\r\n\r\n'), Buffer.from(`${'1'.repeat(5000)}`)]) {
    await assert.rejects(decode(bad, 5), (err: unknown) => err instanceof S3Error && err.code === 'IncompleteBody');
  }
});

test('CRC-32C matches its check value, and continues across pieces like zlib CRC-32', () => {
  // The CRC catalogue's check value: CRC-32C of "123456789".
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  assert.equal(crc32c(data.subarray(10), crc32c(data.subarray(0, 10))), crc32c(data));
  assert.equal(crc32(data.subarray(10), crc32(data.subarray(0, 10))), crc32(data));
});
