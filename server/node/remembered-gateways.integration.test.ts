import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocketServer, type RawData } from 'ws';
import type { GatewayAddress } from '../../shared/protocol.ts';
import { decodeFrame, encodeFrame, NODE_WS_PATH } from '../../shared/protocol.ts';
import { sha256Hex } from '../sha256.ts';
import { randomBytesSeeded, waitFor } from '../testing/cluster.ts';
import { clusterOnPostgres, describeWithPostgres } from '../testing/postgres-suite.ts';
import { saveRememberedGateways } from './remembered-gateways.ts';

const NODE = 'node1';

describeWithPostgres('a disk node remembers the gateways it learnt', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 1, gateways: 2, replicas: 1, gatewayArgs: ['--heartbeat-ms', '500', '--offline-after-ms', '5000'] });
  const remembered = async (): Promise<GatewayAddress[]> =>
    (JSON.parse(await readFile(join(cluster().nodeDir(NODE), 'gateways.json'), 'utf8').catch(() => '{}')) as { gateways?: GatewayAddress[] }).gateways ?? [];
  const statusOn = async (at: number) => {
    const node = (await cluster().gateways[at]!.client.nodes()).find((n) => n.id === NODE);
    return node?.status === 'online' && !node.linked ? 'heard elsewhere' : node?.status;
  };

  test('restarted while the gateway it was given is dead (kill -9), it comes online on the other, which serves its chunks', { timeout: 120_000 }, async () => {
    const [a, b] = [cluster().gateways[0]!, cluster().gateways[1]!];
    await waitFor(async () => (await remembered()).length === 2, 30_000, 'both gateways remembered in the node directory');
    const data = randomBytesSeeded(700_000, 81);
    await a.client.upload('kept.bin', data);

    await cluster().killNode(NODE);
    await a.stop('SIGKILL');
    await waitFor(async () => (await statusOn(1)) === 'offline', 30_000, 'the node offline on B once A and the node are gone');
    cluster().startNode(NODE);
    await waitFor(async () => (await statusOn(1)) === 'online', 30_000, 'the restarted node online on B');
    const res = await b.client.download('kept.bin');
    assert.equal(sha256Hex(new Uint8Array(await res.arrayBuffer())), sha256Hex(data), 'B reads the node\'s chunks');
  });

  test('a remembered entry that is no gateway gets nothing: no proof, no inventory, nothing it asks is done', { timeout: 60_000 }, async () => {
    const held = (await cluster().chunkFiles(NODE)).sort();
    assert.ok(held.length > 0);
    // A plain WebSocket server at the node path: it challenges with a made-up proof and asks for the node's chunks to go.
    const fromNode: string[] = [];
    const stranger = new WebSocketServer({ host: '127.0.0.1', port: 0, path: NODE_WS_PATH });
    await new Promise((resolve) => stranger.once('listening', resolve));
    stranger.on('connection', (socket) => {
      socket.on('message', (raw: RawData) => {
        const { type } = decodeFrame(Array.isArray(raw) ? Buffer.concat(raw) : new Uint8Array(raw as Buffer)).header;
        fromNode.push(type);
        if (type !== 'hello') return;
        socket.send(encodeFrame({ type: 'challenge', nonce: 'ab'.repeat(32), proof: 'cd'.repeat(32) }));
        socket.send(encodeFrame({ type: 'delete', id: 1, hashes: held.map((path) => path.slice(-64)) }));
      });
    });
    try {
      // Gateway A is still dead; the node remembers only the stranger, so the node reaches nothing else.
      await cluster().killNode(NODE);
      await saveRememberedGateways(cluster().nodeDir(NODE), [{ id: 'gw-stranger', url: `http://127.0.0.1:${(stranger.address() as AddressInfo).port}` }]);
      cluster().startNode(NODE);
      await waitFor(() => fromNode.filter((type) => type === 'hello').length >= 2, 30_000, 'the node tried the stranger twice');
      assert.deepEqual([...new Set(fromNode)], ['hello'], 'no proof, no answer, no inventory');
      assert.deepEqual((await cluster().chunkFiles(NODE)).sort(), held, 'nothing deleted');
    } finally {
      for (const client of stranger.clients) client.terminate();
      await new Promise((resolve) => stranger.close(resolve));
    }
  });
});
