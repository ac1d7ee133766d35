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

test('bytes format for people', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(4 * 1024 * 1024), '4.0 MiB');
  assert.equal(formatBytes(300 * 1024 * 1024), '300 MiB');
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
