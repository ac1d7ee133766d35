import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { MemoryChunkStore } from '../../shared/memory-chunk-store.ts';
import { NodeAgent, type AgentState, type SocketConstructor } from '../../shared/node-agent.ts';
import { waitFor } from '../testing/cluster.ts';
import { startGateway, type Gateway } from './main.ts';

let dataDir: string;
let gateway: Gateway;
const agents: NodeAgent[] = [];

function agent(nodeId: string, token: string): NodeAgent {
  const a = new NodeAgent({
    gatewayUrl: gateway.url,
    nodeId,
    token,
    kind: 'disk',
    store: new MemoryChunkStore(1e6),
    WebSocket: WebSocket as unknown as SocketConstructor,
    backoffInitialMs: 50,
    backoffMaxMs: 400,
  });
  agents.push(a);
  a.start();
  return a;
}

const reaches = (a: NodeAgent, state: AgentState) => waitFor(() => a.state === state, 10_000, `agent ${state}`);

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-identity-'));
  gateway = await startGateway({ port: 0, dataDir, heartbeatMs: 200, offlineAfterMs: 1000 });
});

after(async () => {
  for (const a of agents) a.stop();
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('a node id belongs to the first node that used it: another token is refused, the same token replaces the old session', async () => {
  const first = agent('n1', 'token-of-the-real-n1');
  await reaches(first, 'online');

  const impostor = agent('n1', 'some-other-secret-token');
  await reaches(impostor, 'rejected');
  assert.equal(first.state, 'online');
  await waitFor(() => gateway.ctx.registry.isOnline('n1'), 5000, 'n1 online at the gateway');

  const reconnect = agent('n1', 'token-of-the-real-n1');
  await reaches(reconnect, 'online');
  await reaches(first, 'rejected');
  await waitFor(() => gateway.ctx.registry.isOnline('n1'), 5000, 'n1 online again at the gateway');
});

test('hellos that break the protocol are refused with a reason', async () => {
  const badId = agent('no spaces allowed', 'a-perfectly-long-token');
  await reaches(badId, 'rejected');
  const shortToken = agent('n2', 'short');
  await reaches(shortToken, 'rejected');
});

test('a node reconnects by itself, with backoff, when the gateway comes back on the same port', async () => {
  const node = agent('n3', 'token-of-n3-node-xyz');
  await reaches(node, 'online');
  const port = gateway.port;
  await gateway.close();
  await reaches(node, 'waiting');
  gateway = await startGateway({ port, dataDir, heartbeatMs: 200, offlineAfterMs: 1000 });
  await reaches(node, 'online');
  await waitFor(() => gateway.ctx.registry.isOnline('n3'), 5000, 'gateway sees n3');
});
