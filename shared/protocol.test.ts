import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ShoalError } from './errors.ts';
import { decodeFrame, decodeFrameParts, encodeFrame, MAX_HEADER_BYTES, type Message } from './protocol.ts';

test('a frame round-trips its header and payload bytes', () => {
  const payload = new Uint8Array([0, 1, 2, 255, 254]);
  const frame = encodeFrame({ type: 'put', id: 7, hash: 'ab'.repeat(32) }, payload);
  const decoded = decodeFrame(frame.buffer as ArrayBuffer);
  assert.deepEqual(decoded.header, { type: 'put', id: 7, hash: 'ab'.repeat(32) });
  assert.deepEqual([...decoded.payload], [...payload]);
});

test('a frame without payload decodes to an empty payload', () => {
  const decoded = decodeFrame(encodeFrame({ type: 'ok', id: 1 }));
  assert.equal(decoded.payload.length, 0);
  assert.equal(decoded.header.type, 'ok');
});

test('decoding works on a view into a larger buffer', () => {
  const frame = encodeFrame({ type: 'data', id: 3 }, new Uint8Array([9, 8, 7]));
  const big = new Uint8Array(frame.length + 10);
  big.set(frame, 5);
  const decoded = decodeFrame(big.subarray(5, 5 + frame.length));
  assert.deepEqual([...decoded.payload], [9, 8, 7]);
});

function assertBadFrame(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ShoalError && err.code === 'BAD_FRAME' && pattern.test(err.message));
}

test('truncated frames are rejected', () => {
  const frame = encodeFrame({ type: 'ok', id: 1 });
  assertBadFrame(() => decodeFrame(frame.subarray(0, 3)), /shorter than its length prefix/);
  assertBadFrame(() => decodeFrame(frame.subarray(0, frame.length - 1)), /truncated/);
});

test('oversized headers and payloads are rejected', () => {
  const huge = new Uint8Array(8);
  new DataView(huge.buffer).setUint32(0, MAX_HEADER_BYTES + 1);
  assertBadFrame(() => decodeFrame(huge), /exceeds/);
  assertBadFrame(() => encodeFrame({ type: 'inventory', hashes: ['x'.repeat(MAX_HEADER_BYTES)], done: true }), /exceeds/);
  const frame = encodeFrame({ type: 'put', id: 1, hash: 'h' }, new Uint8Array(100));
  assertBadFrame(() => decodeFrame(frame, 99), /payload of 100 bytes exceeds 99/);
  assert.equal(decodeFrame(frame, 100).payload.length, 100);
});

test('headers that are not JSON objects with a type are rejected', () => {
  const bytes = new TextEncoder().encode('not json');
  const frame = new Uint8Array(4 + bytes.length);
  new DataView(frame.buffer).setUint32(0, bytes.length);
  frame.set(bytes, 4);
  assertBadFrame(() => decodeFrame(frame), /not valid UTF-8 JSON/);
  const noType = new TextEncoder().encode('{"id":1}');
  const frame2 = new Uint8Array(4 + noType.length);
  new DataView(frame2.buffer).setUint32(0, noType.length);
  frame2.set(noType, 4);
  assertBadFrame(() => decodeFrame(frame2), /no type/);
});

/** Whatever the bytes, decoding returns a frame within the limit or refuses it as BAD_FRAME, and nothing else. */
function decodesOrRefuses(bytes: Uint8Array, maxPayloadBytes: number): void {
  try {
    const frame = decodeFrame(bytes, maxPayloadBytes);
    assert.equal(typeof frame.header.type, 'string');
    assert.ok(frame.payload.length <= maxPayloadBytes);
  } catch (err) {
    if (!(err instanceof ShoalError && err.code === 'BAD_FRAME')) throw err;
  }
}

/** A length prefix over whatever header bytes, then a payload: frames that get past the first checks. */
const prefixedFrame = fc
  .tuple(fc.oneof(fc.json(), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 64 })), fc.uint8Array({ maxLength: 256 }), fc.integer({ min: -4, max: 4 }))
  .map(([header, payload, lengthSkew]) => {
    const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
    const frame = new Uint8Array(4 + json.length + payload.length);
    new DataView(frame.buffer).setUint32(0, Math.max(0, json.length + lengthSkew));
    frame.set(json, 4);
    frame.set(payload, 4 + json.length);
    return frame;
  });

test('property: decodeFrame on arbitrary bytes returns a frame or throws BAD_FRAME, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), prefixedFrame), fc.oneof(fc.constant(Infinity), fc.nat(300)), decodesOrRefuses),
    { numRuns: 1000 },
  );
});

test('property: decodeFrame on a valid frame with bytes flipped returns a frame or throws BAD_FRAME', () => {
  const flipped = fc
    .tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), fc.uint8Array({ maxLength: 64 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([fields, payload, flips]) => {
      const frame = encodeFrame({ ...fields, type: 'stats' } as unknown as Message, payload);
      for (const [at, mask] of flips) frame[at % frame.length]! ^= mask;
      return frame;
    });
  fc.assert(fc.property(flipped, fc.nat(64), decodesOrRefuses), { numRuns: 500 });
});

test('property: encodeFrame then decodeFrame gives back the header, as JSON sees it, and the payload bytes', () => {
  const header = fc.tuple(fc.string({ unit: 'grapheme' }), fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 3 }))).map(([type, fields]) => ({ ...fields, type }));
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 1024 }), (fields, payload) => {
      const decoded = decodeFrame(encodeFrame(fields as unknown as Message, payload), payload.length);
      assert.deepEqual(decoded.header, JSON.parse(JSON.stringify(fields)));
      assert.deepEqual(decoded.payload, payload);
    }),
    { numRuns: 500 },
  );
});

test('a frame in fragments decodes like the whole, and a header|payload cut hands the payload on uncopied', () => {
  const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
  const header: Message = { type: 'put', id: 9, hash: 'cd'.repeat(32) };
  const head = encodeFrame(header);
  const cut = decodeFrameParts([head, payload]);
  assert.deepEqual(cut.header, header);
  assert.equal(cut.payload, payload);
  const whole = encodeFrame(header, payload);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 5 }), (cuts) => {
      const at = [0, ...cuts.sort((a, b) => a - b), whole.length];
      const parts = at.slice(1).map((end, i) => whole.subarray(at[i], end));
      const decoded = decodeFrameParts(parts);
      assert.deepEqual(decoded.header, header);
      assert.deepEqual([...decoded.payload], [...payload]);
    }),
  );
  assertBadFrame(() => decodeFrameParts([head, payload], 999), /exceeds 999/);
});
