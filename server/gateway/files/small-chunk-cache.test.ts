import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENTRY_OVERHEAD_BYTES, SMALL_CHUNK_BYTES, SmallChunkCache } from './small-chunk-cache.ts';

test('keeps copies of small chunks up to its size, dropping the least recently used first', () => {
  const cache = new SmallChunkCache(3 * (1000 + ENTRY_OVERHEAD_BYTES));
  const bytes = (fill: number) => new Uint8Array(1000).fill(fill);
  const a = bytes(1);
  cache.put('a', a);
  a.fill(9);
  assert.deepEqual(cache.get('a'), bytes(1), 'a copy, not the caller\'s buffer, which it may reuse');
  cache.put('b', bytes(2));
  cache.put('c', bytes(3));
  cache.get('a');
  cache.put('d', bytes(4));
  assert.equal(cache.get('b'), undefined, 'the least recently used went');
  for (const [hash, fill] of [['a', 1], ['c', 3], ['d', 4]] as const) assert.deepEqual(cache.get(hash), bytes(fill));
});

test('a chunk larger than a small one, or than the whole cache, is not kept', () => {
  const cache = new SmallChunkCache(1024 * 1024);
  cache.put('big', new Uint8Array(SMALL_CHUNK_BYTES + 1));
  assert.equal(cache.get('big'), undefined);
  const tiny = new SmallChunkCache(10);
  tiny.put('x', new Uint8Array(11));
  assert.equal(tiny.get('x'), undefined);
});

test('what each entry costs besides its bytes counts against the size: tiny chunks cannot make it hold millions of entries', () => {
  const cache = new SmallChunkCache(100 * ENTRY_OVERHEAD_BYTES);
  for (let i = 0; i < 1000; i++) cache.put(`h${i}`, Uint8Array.of(i & 0xff, i >> 8));
  const kept = Array.from({ length: 1000 }, (_, i) => cache.get(`h${i}`)).filter(Boolean).length;
  assert.ok(kept > 0 && kept < 100, `${kept} two-byte entries kept in ${100 * ENTRY_OVERHEAD_BYTES} bytes`);
});
