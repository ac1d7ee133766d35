import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailedAttempts } from './failed-attempts.ts';

test('FailedAttempts: an address that spent its burst waits; others do not', () => {
  const failures = new FailedAttempts({ burst: 3, perMinute: 6, maxAddresses: 100 });
  for (let i = 0; i < 3; i++) {
    assert.equal(failures.retryAfterSeconds('10.0.0.1'), 0);
    failures.failed('10.0.0.1');
  }
  const wait = failures.retryAfterSeconds('10.0.0.1');
  assert.ok(wait >= 9 && wait <= 10, `one failure is earned back in 10 s, got ${wait}`);
  assert.equal(failures.retryAfterSeconds('::ffff:10.0.0.1'), wait, 'the same client over IPv4-mapped IPv6');
  assert.equal(failures.retryAfterSeconds('10.0.0.2'), 0);
});

test('FailedAttempts: an IPv6 client counts by its /64, so rotating addresses within it gains nothing', () => {
  const failures = new FailedAttempts({ burst: 2, perMinute: 1, maxAddresses: 100 });
  failures.failed('2001:db8:1:2::1');
  failures.failed('2001:db8:1:2:ffff:ffff:ffff:ffff');
  assert.ok(failures.retryAfterSeconds('2001:db8:1:2::abcd') > 0);
  assert.equal(failures.retryAfterSeconds('2001:db8:1:3::1'), 0);
});

test('FailedAttempts: however many addresses fail, it remembers at most maxAddresses', () => {
  const failures = new FailedAttempts({ burst: 1, perMinute: 1, maxAddresses: 50 });
  for (let i = 0; i < 10_000; i++) failures.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  assert.equal(failures.size, 50);
  assert.ok(failures.retryAfterSeconds('10.0.39.15') > 0, 'the newest are still held');
});
