import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { validateFileName } from './file-names.ts';

const badName = (err: unknown) => err instanceof ShoalError && err.code === 'BAD_NAME';

test('plain names, sub-paths and non-ASCII letters are names', () => {
  for (const [raw, name] of [
    ['a.txt', 'a.txt'],
    ['sub/dir/x.bin', 'sub/dir/x.bin'],
    ['%C3%A9t%C3%A9.pdf', 'été.pdf'],
    ['...', '...'],
    ['a..b', 'a..b'],
    ['%252e%252e', '%2e%2e'],
  ]) {
    assert.equal(validateFileName(raw), name, raw);
  }
});

test('dot segments are refused in every encoding', () => {
  for (const raw of ['.', '..', './x', 'sub/../x', 'sub/%2e%2e/x', 'sub/%2E%2e/x', 'sub/.%2E/x', '%2e/x', 'x/%2e', 'a%2F..%2Fb']) {
    assert.throws(() => validateFileName(raw), badName, raw);
  }
});

test('bidi controls, line and paragraph separators, and C0/C1 controls are refused', () => {
  const characters = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c, 0x2028, 0x2029, 0x85, 0x80, 0x9f, 0x00, 0x0a, 0x1f, 0x7f];
  for (const code of characters) {
    const raw = encodeURIComponent(`invoice${String.fromCodePoint(code)}fdp.exe`);
    assert.throws(() => validateFileName(raw), badName, `U+${code.toString(16)}`);
  }
  assert.throws(() => validateFileName('a%5Cb'), badName, 'backslash');
});
