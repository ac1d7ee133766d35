import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool } from './buffer-pool.ts';

test('a pool lends at most its count at once, and the next borrower gets a buffer given back', async () => {
  const pool = new BufferPool(2);
  const a = await pool.acquire(1024);
  const b = await pool.acquire(1024);
  let third: Uint8Array | null = null;
  const waiting = pool.acquire(1024).then((lent) => (third = lent.bytes));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(third, null, 'the third waits while two are lent');
  a.release();
  a.release();
  await waiting;
  assert.equal(third, a.bytes, 'the buffer given back, not a new one');
  b.release();
  const other = await pool.acquire(1024);
  assert.equal(other.bytes, b.bytes);
});

test('a buffer of another size is not lent for a request, and idle buffers are dropped', async () => {
  const pool = new BufferPool(1, 10);
  const small = await pool.acquire(16);
  small.release();
  const large = await pool.acquire(32);
  assert.equal(large.bytes.length, 32);
  assert.notEqual(large.bytes.buffer, small.bytes.buffer);
  large.release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await pool.acquire(32);
  assert.notEqual(after.bytes, large.bytes, 'dropped after being idle');
});
