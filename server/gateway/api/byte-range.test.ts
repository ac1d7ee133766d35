import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { parseRange } from './byte-range.ts';

test('single byte ranges parse to inclusive bounds clamped to the file', () => {
  assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange('bytes=2-', 10), { start: 2, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=5-500', 10), { start: 5, end: 9 });
});

test('headers that are absent, invalid, not understood or multi-range mean the whole file (RFC 9110 14.2)', () => {
  for (const header of [undefined, '', 'items=0-5', 'bytes=abc', 'bytes=-', 'bytes=0-1,4-5', 'bytes=5-3', 'bytes=20-10', 'bytes=1-0']) {
    assert.equal(parseRange(header, 10), null, String(header));
  }
});

test('valid ranges that cannot be satisfied are BAD_RANGE (416)', () => {
  for (const [header, size] of [['bytes=10-', 10], ['bytes=10-20', 10], ['bytes=0-0', 0], ['bytes=-0', 10], ['bytes=-5', 0]] as const) {
    assert.throws(() => parseRange(header, size), (err: unknown) => err instanceof ShoalError && err.code === 'BAD_RANGE', header);
  }
});
