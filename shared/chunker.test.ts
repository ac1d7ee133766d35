import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkStream } from './chunker.ts';

async function sizes(total: number, chunkSize: number, pieceSize: number): Promise<number[]> {
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let sent = 0; sent < total; sent += pieceSize) yield new Uint8Array(Math.min(pieceSize, total - sent)).fill(sent % 251);
  }
  const out: number[] = [];
  for await (const chunk of chunkStream(source(), chunkSize)) out.push(chunk.length);
  return out;
}

test('an empty stream gives no chunks', async () => {
  assert.deepEqual(await sizes(0, 16, 5), []);
});

test('exactly one chunk of bytes gives one full chunk', async () => {
  assert.deepEqual(await sizes(16, 16, 5), [16]);
  assert.deepEqual(await sizes(16, 16, 16), [16]);
  assert.deepEqual(await sizes(16, 16, 100), [16]);
});

test('one byte over gives a full chunk and a one-byte chunk', async () => {
  assert.deepEqual(await sizes(17, 16, 5), [16, 1]);
  assert.deepEqual(await sizes(17, 16, 17), [16, 1]);
});

test('pieces larger than a chunk are split, and bytes keep their order', async () => {
  const input = new Uint8Array(100).map((_, i) => i);
  const chunks: number[][] = [];
  for await (const c of chunkStream([input.subarray(0, 70), input.subarray(70)], 32)) chunks.push([...c]);
  assert.deepEqual(chunks.map((c) => c.length), [32, 32, 32, 4]);
  assert.deepEqual(chunks.flat(), [...input]);
});

test('a web ReadableStream is accepted', async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(10));
      controller.enqueue(new Uint8Array(10));
      controller.close();
    },
  });
  const out: number[] = [];
  for await (const c of chunkStream(stream, 8)) out.push(c.length);
  assert.deepEqual(out, [8, 8, 4]);
});

test('a chunk size that is not a positive integer is refused', async () => {
  await assert.rejects(async () => {
    for await (const _ of chunkStream([], 0)) void _;
  }, RangeError);
});
