import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './token-bucket.ts';

test('tryTake grants a burst of one second, then refuses until the bucket refills', async () => {
  const bucket = new TokenBucket(20);
  for (let i = 0; i < 20; i++) assert.equal(bucket.tryTake(1), true, `take ${i}`);
  assert.equal(bucket.tryTake(1), false);
  assert.equal(bucket.tryTake(25), false, 'more than the burst is never granted at once');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(bucket.tryTake(1), true, 'refilled at 20 a second');
});
