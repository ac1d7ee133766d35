import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { CLOSE, NODE_WS_PATH } from '../../shared/protocol.ts';
import { loadJoinSecret } from '../gateway/nodes/join-secret.ts';
import { TestCluster, waitFor } from '../testing/cluster.ts';
import { ScriptedNode } from '../testing/scripted-node.ts';

/** Whether nothing listens on `port` any more: a stopping gateway closes its port first thing. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('a gateway stopped while a node is halfway through its handshake ends that session and exits', async () => {
  const cluster = await TestCluster.start({ nodes: 0 });
  try {
    const gateway = cluster.gateway!;
    const exited = once(gateway, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const port = Number(new URL(cluster.url).port);
    // Challenged, the node holds its proof until the gateway has begun stopping: the session it
    // would otherwise be welcomed into after the stop would hold the gateway open for good.
    const connecting = ScriptedNode.connect({
      gatewayUrl: cluster.url,
      nodeId: 'late',
      token: 'the-token-of-late',
      join: loadJoinSecret(cluster.dataDir),
      beforeProof: async () => {
        gateway.kill('SIGTERM');
        await waitFor(() => refused(port), 60_000, 'the gateway to stop listening');
      },
    });
    await assert.rejects(connecting, new RegExp(`refused: ${CLOSE.SHUTDOWN}`), 'the half-done session is closed as the gateway goes, not welcomed');
    // Past its own limit, a stuck stop exits with 1 (options.ts onShutdown).
    assert.deepEqual(await exited, [0, null]);
  } finally {
    await cluster.stop();
  }
});

test('a gateway stopped while a page it refused keeps the connection open exits', async () => {
  const cluster = await TestCluster.start({ nodes: 0 });
  try {
    const gateway = cluster.gateway!;
    const exited = once(gateway, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const port = Number(new URL(cluster.url).port);
    // A client that never ends its side of the connection, whatever the gateway says.
    const page = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    page.on('error', () => {});
    await once(page, 'connect');
    let answer = '';
    page.on('data', (data: Buffer) => (answer += data));
    const ended = once(page, 'end');
    page.write(
      `GET ${NODE_WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://elsewhere.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await ended;
    assert.match(answer, /^HTTP\/1\.1 403 /);
    gateway.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    page.destroy();
  } finally {
    await cluster.stop();
  }
});
