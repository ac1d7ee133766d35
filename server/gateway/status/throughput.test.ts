import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Throughput, THROUGHPUT_BUCKET_MS, THROUGHPUT_HISTORY_MS } from './throughput.ts';

test('bytes land in the bucket of their time; the history covers the window, empty buckets included, and forgets older ones', async () => {
  let now = 1_000_000 * THROUGHPUT_BUCKET_MS;
  const throughput = new Throughput(() => now);
  throughput.written(100);
  now += THROUGHPUT_BUCKET_MS;
  throughput.read(40);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(7));
      controller.close();
    },
  });
  await new Response(throughput.countRead(body)).arrayBuffer();
  async function* pieces() {
    yield new Uint8Array(3);
    yield new Uint8Array(2);
  }
  for await (const _ of throughput.countWritten(pieces()));

  const snapshot = throughput.snapshot();
  assert.equal(snapshot.samples.length, THROUGHPUT_HISTORY_MS / THROUGHPUT_BUCKET_MS);
  assert.deepEqual(snapshot.samples.slice(-2).map((s) => [s.readBytes, s.writtenBytes]), [[0, 100], [47, 5]]);
  assert.equal(snapshot.samples.at(-1)!.at, new Date(now).toISOString());
  assert.deepEqual([snapshot.bytesRead, snapshot.bytesWritten], [47, 105]);

  now += THROUGHPUT_HISTORY_MS;
  const later = throughput.snapshot();
  assert.ok(later.samples.every((s) => s.readBytes === 0 && s.writtenBytes === 0), 'old buckets have left the window');
  assert.deepEqual([later.bytesRead, later.bytesWritten], [47, 105], 'totals never fall');
});
