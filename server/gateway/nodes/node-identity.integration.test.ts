import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type AgentState, type SocketConstructor } from '../../../shared/node-agent.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import { waitFor } from '../../testing/cluster.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

let dataDir: string;
let gateway: Gateway;
const agents: NodeAgent[] = [];
/** How each agent's latest socket was closed: the agent itself passes on only the reason. */
const closes = new Map<NodeAgent, { code: number; reason: string }>();

function agent(nodeId: string, token: string, join?: string): NodeAgent {
  const a: NodeAgent = new NodeAgent({
    gatewayUrl: gateway.url,
    nodeId,
    token,
    join,
    kind: 'disk',
    store: new MemoryChunkStore(1e6),
    WebSocket: class extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on('close', (code, reason) => closes.set(a, { code, reason: reason.toString() }));
      }
    } as unknown as SocketConstructor,
    backoffInitialMs: 50,
    backoffMaxMs: 400,
  });
  agents.push(a);
  a.start();
  return a;
}

const reaches = (a: NodeAgent, state: AgentState) => waitFor(() => a.state === state, 10_000, `agent ${state}`);

async function refused(a: NodeAgent, code: number, reason: string): Promise<void> {
  await reaches(a, 'rejected');
  assert.deepEqual(closes.get(a), { code, reason });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-identity-'));
  gateway = await startGateway({ port: 0, dataDir, heartbeatMs: 500, offlineAfterMs: 15_000 });
});

after(async () => {
  for (const a of agents) a.stop();
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('a node id belongs to the node that enrolled it: another token is refused even with the join secret, the same token replaces the old session', async () => {
  const first = agent('n1', 'token-of-the-real-n1', loadJoinSecret(dataDir));
  await reaches(first, 'online');

  const impostor = agent('n1', 'some-other-secret-token', loadJoinSecret(dataDir));
  await refused(impostor, CLOSE.IDENTITY_MISMATCH, 'node id n1 belongs to another node');
  assert.equal(first.state, 'online');
  await waitFor(() => gateway.registry.readable('n1'), 30_000, 'n1 online at the gateway');

  const reconnect = agent('n1', 'token-of-the-real-n1');
  await reaches(reconnect, 'online');
  await refused(first, CLOSE.REPLACED, 'replaced by a newer session of the same node');
  await waitFor(() => gateway.registry.readable('n1'), 30_000, 'n1 online again at the gateway');
});

test('hellos that break the protocol are refused with a reason', async () => {
  const badId = agent('no spaces allowed', 'a-perfectly-long-token');
  await refused(badId, CLOSE.BAD_HELLO, 'bad node id');
});

test('a node the cluster has not enrolled is refused without a join credential, and with a wrong one', async () => {
  await refused(agent('n2', 'token-of-n2-node-xyz'), CLOSE.NOT_ENROLLED, 'node n2 is not enrolled in this cluster: create it with shoal node create, or join with an invite');
  await refused(agent('n2', 'token-of-n2-node-xyz', 'join_not-the-secret'), CLOSE.NOT_ADMITTED, 'the join credential is not valid: it is wrong, expired, revoked or used up');
  assert.equal(await gateway.registry.view('n2'), undefined, 'nothing registered');
});

test('a node reconnects by itself, with backoff, when the gateway comes back on the same port', async () => {
  const node = agent('n3', 'token-of-n3-node-xyz', loadJoinSecret(dataDir));
  await reaches(node, 'online');
  const port = gateway.port;
  await gateway.close();
  await reaches(node, 'waiting');
  gateway = await startGateway({ port, dataDir, heartbeatMs: 500, offlineAfterMs: 15_000 });
  await reaches(node, 'online');
  await waitFor(() => gateway.registry.readable('n3'), 30_000, 'gateway sees n3');
});
