import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
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

test('a buffer transferred away and back is lent again as it came back; one never returned is replaced, its permit kept', async () => {
  const pool = new BufferPool(1);
  const lent = await pool.acquire(1024);
  const { port1, port2 } = new MessageChannel();
  const back = new Promise<Uint8Array>((resolve) => port2.once('message', (buffer: ArrayBuffer) => resolve(new Uint8Array(buffer))));
  const away = lent.bytes.buffer as ArrayBuffer;
  port1.postMessage(away, [away]);
  assert.equal(lent.bytes.length, 0, 'transferred: the pool\'s view is empty');
  lent.moved(await back);
  assert.equal(lent.bytes.length, 1024);
  const returned = lent.bytes;
  lent.release();
  const next = await pool.acquire(1024);
  assert.equal(next.bytes, returned, 'lent again as it came back');

  const lost = next.bytes.buffer as ArrayBuffer;
  port1.postMessage(lost, [lost]);
  next.release();
  const replaced = await pool.acquire(1024);
  assert.equal(replaced.bytes.length, 1024, 'a buffer that never came back is replaced, not lent empty');
  replaced.release();
  port1.close();
});
