import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from './errors.ts';
import { decodeFrame, encodeFrame, MAX_HEADER_BYTES } from './protocol.ts';

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
