import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { randomBytesSeeded } from '../../testing/cluster.ts';
import { sealedSize } from '../metadata/sealed-size.ts';
import { ChunkCipher } from './chunk-cipher.ts';
import { CryptoWorkers, OFFLOAD_BYTES } from './crypto-workers.ts';

const KEY = 'data_the-key-of-this-cluster-for-the-tests-xx';
const cipher = new ChunkCipher(KEY);
const workers = new CryptoWorkers(cipher, KEY, 2);
after(() => workers.close());

const SIZE = 4 * 1024 * 1024;

/** A pooled chunk buffer as the file writer fills one: the plaintext read into its end. */
function chunkBuffer(plain: Uint8Array): { buffer: Uint8Array; plain: Uint8Array } {
  const buffer = new Uint8Array(sealedSize(plain.length));
  const at = buffer.length - plain.length;
  buffer.set(plain, at);
  return { buffer, plain: buffer.subarray(at) };
}

test('a chunk sealed on a worker is the chunk the gateway thread seals, in the same memory, and opens there again', async () => {
  const plain = randomBytesSeeded(SIZE, 11);
  const own = cipher.seal(plain);
  const given = chunkBuffer(plain);
  const { buffer, sealed, chunk } = await workers.seal(given.buffer, given.plain);
  assert.equal(given.buffer.length, 0, 'the buffer was handed over, not copied');
  assert.equal(buffer.length, sealedSize(SIZE), 'and came back whole');
  assert.equal(sealed.buffer, buffer.buffer);
  assert.deepEqual(chunk, own.chunk);
  assert.ok(Buffer.from(sealed).equals(Buffer.from(own.sealed)));

  const stored = new Uint8Array(own.sealed);
  const opened = await workers.open(chunk, cipher.span(chunk, 0, SIZE - 1), stored);
  assert.equal(stored.length, 0, 'opened on a worker');
  assert.ok(Buffer.from(opened).equals(plain));
});

test('bytes a node damaged fail their tag on a worker as on the gateway thread: CHUNK_CORRUPT', async () => {
  const plain = randomBytesSeeded(SIZE, 12);
  const { sealed, chunk } = cipher.seal(plain);
  const damaged = new Uint8Array(sealed);
  damaged[SIZE / 2] ^= 1;
  await assert.rejects(workers.open(chunk, cipher.span(chunk, 0, SIZE - 1), damaged), (err) => err instanceof ShoalError && err.code === 'CHUNK_CORRUPT');
  const short = new Uint8Array(sealed.subarray(0, sealed.length - 1));
  await assert.rejects(workers.open(chunk, cipher.span(chunk, 0, SIZE - 1), short), (err) => err instanceof ShoalError && err.code === 'CHUNK_CORRUPT');
});

test('chunks sealed at once on several workers each keep their own bytes', async () => {
  const plains = Array.from({ length: 6 }, (_, i) => randomBytesSeeded(SIZE, 20 + i));
  const results = await Promise.all(plains.map((plain) => chunkBuffer(plain)).map(({ buffer, plain }) => workers.seal(buffer, plain)));
  results.forEach(({ chunk }, i) => assert.deepEqual(chunk, cipher.seal(plains[i]!).chunk));
});

test('a small chunk, or bytes that are a view of a larger buffer, are sealed and opened where they are', async () => {
  const small = chunkBuffer(randomBytesSeeded(OFFLOAD_BYTES - 1, 30));
  const sealedSmall = await workers.seal(small.buffer, small.plain);
  assert.equal(sealedSmall.buffer, small.buffer, 'not handed over');
  const plain = randomBytesSeeded(SIZE, 31);
  const { sealed, chunk } = cipher.seal(plain);
  const wider = new Uint8Array(sealed.length + 10);
  wider.set(sealed, 10);
  const view = wider.subarray(10);
  const opened = await workers.open(chunk, cipher.span(chunk, 0, SIZE - 1), view);
  assert.equal(wider.length, sealed.length + 10, 'the larger buffer is not taken from its owner');
  assert.ok(Buffer.from(opened).equals(plain));
});

test('a worker that stops fails the chunks it held with a typed error, never a hang, and nothing is sealed after', async () => {
  const own = new CryptoWorkers(cipher, KEY, 1);
  const { buffer, plain } = chunkBuffer(randomBytesSeeded(SIZE, 40));
  const sealing = own.seal(buffer, plain);
  await own.close();
  await assert.rejects(sealing, (err) => err instanceof ShoalError && err.code === 'INTERNAL');
  const again = chunkBuffer(randomBytesSeeded(SIZE, 41));
  await assert.rejects(own.seal(again.buffer, again.plain), (err) => err instanceof ShoalError && err.code === 'INTERNAL');
  assert.equal(again.buffer.length, sealedSize(SIZE), 'a chunk refused is not taken');
});
