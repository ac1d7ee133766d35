import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { MAX_CHUNK_BYTES, MAX_HEADER_BYTES, NODE_WS_PATH } from '../../shared/protocol.ts';
import { startDiskNode } from './start-node.ts';

test('a disk node refuses a message longer than any frame of the protocol as it arrives (1009), not after gathering it', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-message-limit-'));
  const peer = new WebSocketServer({ host: '127.0.0.1', port: 0, path: NODE_WS_PATH });
  await new Promise((resolve) => peer.once('listening', resolve));
  const closed = new Promise<number>((resolve) => {
    peer.once('connection', (socket) => {
      socket.once('close', resolve);
      socket.send(new Uint8Array(4 + MAX_HEADER_BYTES + MAX_CHUNK_BYTES + 1));
    });
  });
  const node = await startDiskNode({ id: 'node1', token: 't', gatewayUrl: `http://127.0.0.1:${(peer.address() as AddressInfo).port}`, dir, capacityBytes: 1e9 });
  try {
    assert.equal(await closed, 1009);
  } finally {
    await node.stop();
    for (const client of peer.clients) client.terminate();
    await new Promise((resolve) => peer.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
