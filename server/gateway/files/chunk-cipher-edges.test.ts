import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { randomBytesSeeded } from '../../testing/cluster.ts';
import { SEGMENT_BYTES, TAG_BYTES } from '../metadata/sealed-size.ts';
import { ChunkCipher } from './chunk-cipher.ts';

const cipher = new ChunkCipher('data_another-key-of-a-cluster-for-these-tests');
const STRIDE = SEGMENT_BYTES + TAG_BYTES;

function isCorrupt(err: unknown): boolean {
  return err instanceof ShoalError && err.code === 'CHUNK_CORRUPT';
}

test('an empty chunk seals to its tag alone and opens to nothing', () => {
  const { sealed, chunk } = cipher.seal(new Uint8Array(0));
  assert.equal(sealed.length, TAG_BYTES);
  const span = cipher.span(chunk, 0, 0);
  assert.deepEqual(span, { offset: 0, length: TAG_BYTES });
  assert.equal(cipher.open(chunk, span, sealed).length, 0);
  assert.throws(() => cipher.open(chunk, span, cipher.seal(new Uint8Array(1)).sealed.subarray(0, TAG_BYTES)), isCorrupt, "another chunk's tag");
});

test('a chunk of whole segments: its last byte alone, and its last segment cut off, at the boundary', () => {
  const plain = randomBytesSeeded(2 * SEGMENT_BYTES, 8);
  const { sealed, chunk } = cipher.seal(plain);
  assert.equal(sealed.length, 2 * STRIDE);
  const last = cipher.span(chunk, plain.length - 1, plain.length - 1);
  assert.deepEqual(last, { offset: STRIDE, length: STRIDE });
  assert.ok(Buffer.from(cipher.open(chunk, last, Buffer.from(sealed.subarray(STRIDE)))).equals(plain.subarray(SEGMENT_BYTES)));
  const first = cipher.span(chunk, SEGMENT_BYTES - 1, SEGMENT_BYTES);
  assert.ok(Buffer.from(cipher.open(chunk, first, Buffer.from(sealed))).equals(plain));
  // The first segment alone, passed off as the whole of a one-segment chunk: not marked last.
  const halved = { ...chunk, size: SEGMENT_BYTES };
  assert.throws(() => cipher.open(halved, cipher.span(halved, 0, SEGMENT_BYTES - 1), Buffer.from(sealed.subarray(0, STRIDE))), isCorrupt);
});

test('a node answering a range with the right length of the wrong bytes is caught', () => {
  const plain = randomBytesSeeded(3 * SEGMENT_BYTES, 9);
  const { sealed, chunk } = cipher.seal(plain);
  const asked = cipher.span(chunk, SEGMENT_BYTES, SEGMENT_BYTES + 10);
  assert.throws(() => cipher.open(chunk, asked, sealed.subarray(0, STRIDE)), isCorrupt, 'another segment of the same chunk');
  const twin = cipher.seal(randomBytesSeeded(3 * SEGMENT_BYTES, 10)).sealed;
  assert.throws(() => cipher.open(chunk, asked, twin.subarray(STRIDE, 2 * STRIDE)), isCorrupt, 'the same segment of another chunk');
  assert.throws(() => cipher.open(chunk, asked, sealed.subarray(STRIDE, 3 * STRIDE)), isCorrupt, 'more bytes than asked');
});
