import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded } from '../../testing/cluster.ts';
import { SEGMENT_BYTES, storedSize, TAG_BYTES } from '../metadata/sealed-size.ts';
import { ChunkCipher } from './chunk-cipher.ts';

const KEY = 'data_the-key-of-this-cluster-for-the-tests-xx';
const cipher = new ChunkCipher(KEY);
const SIZE = 3 * SEGMENT_BYTES + 1234;
const plain = randomBytesSeeded(SIZE, 5);

function isCorrupt(err: unknown): boolean {
  return err instanceof ShoalError && err.code === 'CHUNK_CORRUPT';
}

test('a sealed chunk opens whole to its plaintext; its id is the SHA-256 of what the nodes store', () => {
  const { sealed, chunk } = cipher.seal(plain);
  assert.equal(chunk.size, SIZE);
  assert.equal(sealed.length, storedSize(chunk));
  assert.equal(sealed.length, SIZE + 4 * TAG_BYTES);
  assert.equal(chunk.hash, sha256Hex(sealed));
  const whole = cipher.span(chunk, 0, SIZE - 1);
  assert.deepEqual(whole, { offset: 0, length: sealed.length });
  const opened = cipher.open(chunk, whole, sealed);
  assert.ok(Buffer.from(opened).equals(plain));
  assert.equal(opened.buffer, sealed.buffer, 'opened in place: a read holds one chunk, not two');
});

test('a chunk sealed into a buffer it is given is the same sealed chunk, and a view of that buffer', () => {
  const into = new Uint8Array(SIZE + 4 * TAG_BYTES + 100);
  const given = cipher.seal(plain, into);
  const own = cipher.seal(plain);
  assert.deepEqual(given.chunk, own.chunk);
  assert.ok(Buffer.from(given.sealed).equals(Buffer.from(own.sealed)));
  assert.equal(given.sealed.buffer, into.buffer);
  assert.throws(() => cipher.seal(plain, new Uint8Array(SIZE)), RangeError, 'too short to hold the tags');
});

test('a chunk sealed over itself, read into the end of its buffer, is the same sealed chunk', () => {
  // A full chunk of four segments and a short last one, each read where FileWriter reads it.
  for (const size of [4 * SEGMENT_BYTES, SEGMENT_BYTES + 7, 0]) {
    const text = plain.subarray(0, Math.min(size, SIZE));
    const buffer = new Uint8Array(4 * SEGMENT_BYTES + 4 * TAG_BYTES);
    const start = 4 * TAG_BYTES;
    buffer.set(text, start);
    const own = cipher.seal(text);
    const inPlace = cipher.seal(buffer.subarray(start, start + text.length), buffer);
    assert.deepEqual(inPlace.chunk, own.chunk);
    assert.ok(Buffer.from(inPlace.sealed).equals(Buffer.from(own.sealed)));
  }
  const buffer = new Uint8Array(SIZE + 4 * TAG_BYTES);
  assert.throws(() => cipher.seal(buffer.subarray(TAG_BYTES, TAG_BYTES + SIZE), buffer), RangeError, 'segment 1 would be written over before it is read');
});

test('no plaintext shows in what the nodes store, and the metadata holds a keyed id, not a key', () => {
  const marker = Buffer.from('MARKER-in-the-plaintext-0123456789');
  const text = Buffer.concat([marker, Buffer.alloc(100_000, 7), marker]);
  const { sealed, chunk } = cipher.seal(text);
  assert.equal(Buffer.from(sealed).indexOf(marker), -1);
  assert.notEqual(chunk.key, sha256Hex(text), 'not the plain hash, which anyone holding the content could compute');
  assert.notEqual(new ChunkCipher('data_another-key-of-another-cluster-for-tests').seal(text).chunk.key, chunk.key);
});

test('identical plaintext seals identically (so the cluster deduplicates); different plaintext does not', () => {
  const again = new ChunkCipher(KEY).seal(Buffer.from(plain));
  assert.deepEqual(again.chunk, cipher.seal(plain).chunk);
  const other = Buffer.from(plain);
  other[SIZE - 1]! ^= 1;
  assert.notEqual(cipher.seal(other).chunk.hash, again.chunk.hash);
});

test('a range opens from just the segments that cover it', () => {
  const { sealed, chunk } = cipher.seal(plain);
  for (const [start, end] of [
    [0, 0],
    [SEGMENT_BYTES - 1, SEGMENT_BYTES],
    [SEGMENT_BYTES + 5, 2 * SEGMENT_BYTES + 7],
    [SIZE - 1, SIZE - 1],
  ] as const) {
    const span = cipher.span(chunk, start, end);
    const segments = Math.floor(end / SEGMENT_BYTES) - Math.floor(start / SEGMENT_BYTES) + 1;
    assert.ok(span.length <= segments * (SEGMENT_BYTES + TAG_BYTES), `${start}-${end}: ${span.length} bytes`);
    const opened = cipher.open(chunk, span, Buffer.from(sealed.subarray(span.offset, span.offset + span.length)));
    const first = Math.floor(start / SEGMENT_BYTES) * SEGMENT_BYTES;
    assert.ok(Buffer.from(opened.subarray(start - first, end - first + 1)).equals(plain.subarray(start, end + 1)), `${start}-${end}`);
  }
});

test('a flipped bit, a segment swapped for another, a last segment cut off or passed off as another are all refused', () => {
  const { sealed, chunk } = cipher.seal(plain);
  const whole = cipher.span(chunk, 0, SIZE - 1);
  const flipped = Buffer.from(sealed);
  flipped[SEGMENT_BYTES + 100]! ^= 1;
  assert.throws(() => cipher.open(chunk, whole, flipped), isCorrupt, 'a flipped bit');

  const stride = SEGMENT_BYTES + TAG_BYTES;
  const swapped = Buffer.from(sealed);
  sealed.subarray(stride, 2 * stride).forEach((byte, i) => (swapped[i] = byte));
  sealed.subarray(0, stride).forEach((byte, i) => (swapped[stride + i] = byte));
  assert.throws(() => cipher.open(chunk, whole, swapped), isCorrupt, 'two segments swapped');

  // The first three segments alone, asked for as if they were the whole chunk of that size.
  const short = { ...chunk, size: 3 * SEGMENT_BYTES };
  assert.throws(() => cipher.open(short, cipher.span(short, 0, short.size - 1), Buffer.from(sealed.subarray(0, 3 * stride))), isCorrupt, 'truncated to whole segments');
  assert.throws(() => cipher.open(chunk, whole, Buffer.from(sealed.subarray(0, sealed.length - 1))), isCorrupt, 'one byte short');

  const span = cipher.span(chunk, 0, 0);
  const other = cipher.seal(randomBytesSeeded(SIZE, 6)).sealed;
  assert.throws(() => cipher.open(chunk, span, other.subarray(0, span.length)), isCorrupt, "another chunk's segment");
});
