import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, parseDuration, parseSize } from './units.ts';

test('sizes read as the prototype did: a bare number is gigabytes', () => {
  assert.equal(parseSize('1'), 1e9);
  assert.equal(parseSize('512MB'), 512e6);
  assert.equal(parseSize('1GB'), 1e9);
  assert.equal(parseSize('4MiB'), 4 * 1024 * 1024);
  assert.equal(parseSize('1.5 gb'), 1.5e9);
  assert.equal(parseSize('64k'), 64e3);
  assert.equal(parseSize('100', 'b'), 100);
});

test('unreadable sizes are a clear error', () => {
  assert.throws(() => parseSize('lots'), /cannot read "lots" as a size/);
  assert.throws(() => parseSize('5XB'), /cannot read/);
  assert.throws(() => parseSize('-1GB'), /cannot read/);
});

test('sizes come back the way they were given: decimal, or binary when that is the round one', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(parseSize('1GB')), '1 GB');
  assert.equal(formatBytes(parseSize('512MB')), '512 MB');
  assert.equal(formatBytes(parseSize('1.5GB')), '1.5 GB');
  assert.equal(formatBytes(parseSize('4MiB')), '4 MiB');
  assert.equal(formatBytes(parseSize('1.5GiB')), '1.5 GiB');
  assert.equal(formatBytes(parseSize('64KiB')), '64 KiB');
  assert.equal(formatBytes(parseSize('64k')), '64 kB');
});

test('measured sizes that are round in neither system are decimal, to three significant digits', () => {
  assert.equal(formatBytes(9 * 1024 * 1024 + 3), '9.44 MB');
  assert.equal(formatBytes(123_456_789), '123 MB');
  assert.equal(formatBytes(2_048_000_000), '2.05 GB');
});

test('durations read with units, a bare number is seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('soon'), /cannot read "soon" as a duration/);
});
