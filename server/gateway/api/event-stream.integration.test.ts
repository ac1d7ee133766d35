import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../testing/cluster.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { SSE_MAX_UNREAD_BYTES } from './event-routes.ts';

let dataDir: string;
let gateway: Gateway;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-events-'));
  gateway = await startGateway({ port: 0, dataDir });
});

after(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** An event-stream client on a plain socket, so the test decides when it reads; resolves once subscribed. */
async function subscriber(): Promise<{ socket: Socket; text: () => string; bytes: () => number; ended: Promise<void> }> {
  const socket = connect(gateway.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nAuthorization: Bearer ${gateway.adminToken}\r\n\r\n`);
  let tail = '';
  let bytes = 0;
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (data: Buffer) => {
    bytes += data.length;
    // Only the end matters to the test: the last event's name, or the ready event.
    tail = (tail + data.toString('latin1')).slice(-4096);
  });
  await waitFor(() => tail.includes('event: ready'), 30_000, 'the ready event');
  return { socket, text: () => tail, bytes: () => bytes, ended };
}

test('a client that stops reading is dropped once its buffer fills, and does not hold up the clients that read', async () => {
  const reader = await subscriber();
  const stalled = await Promise.all(Array.from({ length: 5 }, () => subscriber()));
  for (const client of stalled) client.socket.pause();

  // Far more than the bound and the sockets' kernel buffers together: ~16 MiB per client.
  const name = 'x'.repeat(2000);
  const count = 8000;
  const startedAt = Date.now();
  for (let i = 0; i < count; i++) {
    gateway.events.publish({ type: 'file.removed', name: i === count - 1 ? 'the-last-one' : name });
    // Publishing is synchronous; yielding lets the sockets move what the stream queued.
    if (i % 50 === 0) await yieldToIo();
  }
  const publishMs = Date.now() - startedAt;
  assert.ok(count * name.length > 20 * SSE_MAX_UNREAD_BYTES);

  await waitFor(() => reader.text().includes('the-last-one'), 30_000, 'the reading client to get every event');
  for (const client of stalled) client.socket.resume();
  const drops = await Promise.all(stalled.map((client) => Promise.race([client.ended.then(() => 'dropped'), sleep(10_000, undefined, { ref: false }).then(() => 'still open')])));
  console.log(`published ${count} events in ${publishMs} ms; stalled clients ${drops.join(', ')} after ${stalled.map((c) => c.bytes()).join(', ')} bytes`);
  assert.deepEqual(drops, stalled.map(() => 'dropped'));
  for (const client of stalled) assert.ok(client.bytes() < count * name.length / 2, 'a stalled client was sent everything after all');
  assert.equal(reader.socket.destroyed, false, 'the reading client was dropped');
  reader.socket.destroy();
});
