import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asBlob, blobBytes } from './blob-bytes.ts';

const bytes = (n: number, seed: number): Uint8Array<ArrayBuffer> => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const contents = async (blob: Blob): Promise<Uint8Array> => new Uint8Array(await blob.arrayBuffer());

test('bytes read out of a Blob of no type stand for that very Blob', async () => {
  const blob = new Blob([bytes(1000, 1)]);
  const read = await blobBytes(blob);
  assert.deepEqual(read, bytes(1000, 1));
  assert.equal(asBlob(read), blob);
});

test('a part of them, or bytes of a typed Blob, stand for a slice of it of no type', async () => {
  const typed = new Blob([bytes(1000, 2)], { type: 'application/octet-stream' });
  const read = await blobBytes(typed);
  const whole = asBlob(read);
  assert.equal(whole.type, '');
  assert.deepEqual(await contents(whole), bytes(1000, 2));
  const part = asBlob(read.subarray(100, 300));
  assert.equal(part.type, '');
  assert.deepEqual(await contents(part), bytes(1000, 2).subarray(100, 300));
});

test('bytes not read out of a Blob become a new Blob holding a copy', async () => {
  const made = bytes(500, 3);
  const blob = asBlob(made);
  made[0] ^= 0xff;
  assert.deepEqual(await contents(blob), bytes(500, 3));
  assert.notEqual(asBlob(made), blob);
});
