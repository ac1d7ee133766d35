import assert from 'node:assert/strict';
import { test } from 'node:test';
import { responseBytes } from './response-bytes.ts';

/** A response whose body arrives in `pieces`, declaring `length` bytes (none when undefined). */
function response(pieces: Uint8Array[], length: number | undefined): Response {
  let next = 0;
  const body = new ReadableStream({
    type: 'bytes',
    pull(controller: ReadableByteStreamController) {
      if (next < pieces.length) controller.enqueue(pieces[next++]!.slice());
      else {
        controller.close();
        // A read waiting on a buffer of its own ends only once told no byte came.
        controller.byobRequest?.respond(0);
      }
    },
  });
  return new Response(body, { headers: length === undefined ? {} : { 'content-length': String(length) } });
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

test('a body read into one buffer of its declared length is the bytes sent, owning its whole buffer', async () => {
  const sent = bytes(300_000, 1);
  const got = await responseBytes(response([sent.subarray(0, 1000), sent.subarray(1000, 200_000), sent.subarray(200_000)], sent.length), 1 << 20);
  assert.deepEqual(got, sent);
  assert.equal(got.byteOffset, 0);
  assert.equal(got.buffer.byteLength, sent.length);
});

test('a body with no declared length is read whole', async () => {
  const sent = bytes(5000, 2);
  assert.deepEqual(await responseBytes(response([sent.subarray(0, 10), sent.subarray(10)], undefined), 1 << 20), sent);
});

test('a body shorter or longer than it declared is refused', async () => {
  const sent = bytes(5000, 3);
  await assert.rejects(responseBytes(response([sent.subarray(0, 4000)], sent.length), 1 << 20), { code: 'BAD_REQUEST' });
  await assert.rejects(responseBytes(response([sent, bytes(10, 4)], sent.length), 1 << 20), { code: 'BAD_REQUEST' });
});

test('a body larger than the most expected is refused, whether or not it says so', async () => {
  const sent = bytes(5000, 5);
  await assert.rejects(responseBytes(response([sent], sent.length), 4096), { code: 'FILE_TOO_LARGE' });
  await assert.rejects(responseBytes(response([sent], undefined), 4096), { code: 'FILE_TOO_LARGE' });
});

test('a body with no declared length is refused once it passes the most expected, not read to its end', async () => {
  let sent = 0;
  const huge = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 16 * 1024 * 1024) return controller.close();
      sent += 1024;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  await assert.rejects(responseBytes(new Response(huge), 64 * 1024), { code: 'FILE_TOO_LARGE' });
  assert.ok(sent <= 128 * 1024, `${sent} bytes pulled`);
});
