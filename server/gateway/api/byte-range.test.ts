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

test('headers that are absent, not understood or multi-range mean the whole file', () => {
  for (const header of [undefined, '', 'items=0-5', 'bytes=abc', 'bytes=-', 'bytes=0-1,4-5']) {
    assert.equal(parseRange(header, 10), null, String(header));
  }
});

test('ranges outside the file are BAD_RANGE (416)', () => {
  for (const header of ['bytes=10-', 'bytes=10-20', 'bytes=5-3', 'bytes=0-0']) {
    const size = header === 'bytes=0-0' ? 0 : 10;
    assert.throws(() => parseRange(header, size), (err: unknown) => err instanceof ShoalError && err.code === 'BAD_RANGE', header);
  }
});
