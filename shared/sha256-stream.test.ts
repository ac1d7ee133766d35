import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Hex } from './hash.ts';
import { createSha256 } from './sha256-stream.ts';

test('the incremental SHA-256 agrees with WebCrypto for every length around the block edges, fed in uneven pieces', async () => {
  const data = new Uint8Array(300).map((_, i) => (i * 31 + 7) & 0xff);
  for (const length of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300]) {
    const bytes = data.subarray(0, length);
    for (const piece of [1, 7, 64, 1000]) {
      const hash = createSha256();
      for (let at = 0; at < length; at += piece) hash.update(bytes.subarray(at, at + piece));
      assert.equal(hash.digestHex(), await sha256Hex(bytes), `length ${length}, pieces of ${piece}`);
    }
  }
});
