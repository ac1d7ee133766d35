import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../../shared/node-agent.ts';
import type { GatewayToNode, HelloMessage, Message } from '../../../shared/protocol.ts';
import { CLOSE, decodeFrame, encodeFrame, NODE_WS_PATH } from '../../../shared/protocol.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../testing/postgres-server.ts';
import { PostgresGatewayDirectory } from '../cluster/postgres-gateway-directory.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

/** A WebSocket server posing as a gateway of the cluster: what each node sent it, and what it did with each. */
interface Impostor {
  url: string;
  /** Message types the node sent it, in order. */
  fromNode: string[];
  /** How the real gateway closed the impostor's own session to it, when it relays. */
  upstreamClosed: number[];
  close(): Promise<void>;
}

async function impostor(onNode: (node: WebSocket, seen: Impostor) => void): Promise<Impostor> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: NODE_WS_PATH });
  await new Promise((resolve) => wss.once('listening', resolve));
  const seen: Impostor = {
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    fromNode: [],
    upstreamClosed: [],
    close: () => {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (node) => {
    node.on('message', (data: RawData) => seen.fromNode.push(decodeFrame(toBytes(data)).header.type));
    onNode(node, seen);
  });
  return seen;
}

function toBytes(data: RawData): Uint8Array {
  return Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/**
 * Passes every frame between the node and the real gateway, the node's hello through `rewrite`
 * first. `ownHost`: the relay names its own host in the HTTP request's Host header, as the node did.
 */
function relayTo(gateway: Gateway, rewrite: (hello: HelloMessage) => HelloMessage, ownHost = false) {
  return (node: WebSocket, seen: Impostor): void => {
    const headers = ownHost ? { host: new URL(seen.url).host } : undefined;
    const upstream = new WebSocket(new URL(NODE_WS_PATH, gateway.url.replace(/^http/, 'ws')), { headers });
    const pending: Uint8Array[] = [];
    upstream.on('open', () => pending.splice(0).forEach((frame) => upstream.send(frame)));
    upstream.on('message', (data: RawData) => node.readyState === WebSocket.OPEN && node.send(toBytes(data)));
    upstream.on('close', (code) => {
      seen.upstreamClosed.push(code);
      node.close();
    });
    upstream.on('error', () => {});
    node.on('message', (data: RawData) => {
      const { header, payload } = decodeFrame(toBytes(data));
      const frame = header.type === 'hello' ? encodeFrame(rewrite(header as HelloMessage), payload) : toBytes(data);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(frame);
      else pending.push(frame);
    });
    node.on('close', () => upstream.close());
  };
}

/**
 * Acts a gateway without knowing the node's verifier, in one of two ways: asks it to delete its
 * chunks straight after its hello, or challenges it with a made-up proof and, should the node
 * answer, welcomes it and asks the same.
 */
function forger(how: 'early' | 'made-up proof', hashes: () => string[]) {
  return (node: WebSocket): void => {
    const send = (message: GatewayToNode) => node.send(encodeFrame(message as Message));
    node.on('message', (data: RawData) => {
      const { type } = decodeFrame(toBytes(data)).header;
      if (type === 'hello' && how === 'early') send({ type: 'delete', id: 1, hashes: hashes() });
      if (type === 'hello' && how === 'made-up proof') send({ type: 'challenge', nonce: 'ab'.repeat(32), proof: 'cd'.repeat(32) });
      if (type === 'proof') {
        send({ type: 'welcome', heartbeatMs: 1000, clusterId: gatewayClusterId, gatewayId: 'gw-forger', gateways: [] });
        send({ type: 'delete', id: 2, hashes: hashes() });
      }
    });
  };
}

let gatewayClusterId = '';

const unavailable = postgresUnavailable();
if (unavailable) {
  console.log(unavailable);
  test('gateways prove themselves to nodes', { skip: unavailable }, () => {});
} else {
  describe('a gateway list that names a stranger (a gateway row someone else wrote)', () => {
    let server: PostgresServer;
    let root: string;
    let gateway: Gateway;
    let pool: pg.Pool;
    let store: MemoryChunkStore;
    let agent: NodeAgent;
    const impostors: Impostor[] = [];
    const beats: Array<ReturnType<typeof setInterval>> = [];

    /** Lists `stranger` as an online gateway of the cluster, as a forged or stale row of the directory would. */
    async function listed(stranger: Impostor, id: string): Promise<void> {
      impostors.push(stranger);
      const directory = new PostgresGatewayDirectory(pool);
      await directory.register({ id, url: stranger.url });
      beats.push(setInterval(() => void directory.heartbeat().catch(() => {}), 200));
    }

    before(async () => {
      server = await startPostgres();
      const metadataUrl = await server.createDatabase();
      pool = new pg.Pool({ connectionString: metadataUrl });
      // The server's shutdown ends idle connections, which is no failure of the test.
      pool.on('error', () => {});
      root = await mkdtemp(join(tmpdir(), 'shoal-gateway-proof-'));
      gateway = await startGateway({ port: 0, dataDir: root, metadataUrl, heartbeatMs: 200, offlineAfterMs: 5000, replicas: 1 });
      gatewayClusterId = gateway.clusterId;
      store = new MemoryChunkStore(64 * 1024 * 1024);
      agent = new NodeAgent({
        gatewayUrl: gateway.url,
        nodeId: 'n1',
        token: 'token-of-node-n1-xyz',
        join: loadJoinSecret(root),
        kind: 'disk',
        store,
        WebSocket: WebSocket as unknown as SocketConstructor,
        backoffInitialMs: 50,
        backoffMaxMs: 200,
      });
      agent.start();
      await waitFor(() => gateway.registry.readable('n1'), 30_000, 'n1 online');
      await new ShoalClient(gateway.url, { token: gateway.adminToken }).upload('kept.bin', randomBytesSeeded(200_000, 3));
    });

    after(async () => {
      for (const beat of beats) clearInterval(beat);
      agent?.stop();
      for (const stranger of impostors) await stranger.close();
      await gateway?.close();
      await pool?.end();
      await server?.stop();
      await rm(root, { recursive: true, force: true });
    });

    test('a stranger relaying the node to the real gateway gets no session: the gateway sees the node dialed another host', async () => {
      const relay = await impostor(relayTo(gateway, (hello) => hello));
      await listed(relay, 'gw-relay');
      await waitFor(() => relay.upstreamClosed.length >= 2, 30_000, 'the node tried the relay twice');
      assert.deepEqual([...new Set(relay.upstreamClosed)], [CLOSE.MISDIRECTED]);
      assert.ok(!relay.fromNode.includes('proof'), 'refused at the hello, before any proof');
      assert.equal(agent.state, 'online');
      assert.ok(gateway.registry.readable('n1'), "the node's own session was never replaced");
    });

    test('a relay that names its own host in the Host header gets no session either: the host dialed must be this gateway\'s', async () => {
      const held = (await store.list()).sort();
      const relay = await impostor(relayTo(gateway, (hello) => hello, true));
      await listed(relay, 'gw-host-header');
      await waitFor(() => relay.upstreamClosed.length >= 2 || relay.fromNode.includes('inventory'), 30_000, 'the node tried the relay twice');
      assert.ok(!relay.fromNode.includes('proof'), relay.fromNode.join(' '));
      assert.deepEqual([...new Set(relay.upstreamClosed)], [CLOSE.MISDIRECTED]);
      assert.deepEqual((await store.list()).sort(), held);
      assert.equal(agent.state, 'online', 'a session through the relay would have replaced the node\'s own, which stops the node for good');
      assert.ok(gateway.registry.readable('n1'));
    });

    test('a relay that names the real host in the hello gets no proof from the node: the gateway proof is for the host the node dialed', async () => {
      const relay = await impostor(relayTo(gateway, (hello) => ({ ...hello, gateway: { ...hello.gateway!, host: new URL(gateway.url).host } })));
      await listed(relay, 'gw-rewriter');
      await waitFor(() => relay.fromNode.filter((type) => type === 'hello').length >= 2, 30_000, 'the node tried the relay twice');
      assert.ok(!relay.fromNode.includes('proof'), relay.fromNode.join(' '));
      assert.equal(agent.state, 'online');
      assert.ok(gateway.registry.readable('n1'));
    });

    for (const how of ['early', 'made-up proof'] as const) {
      test(`a stranger that cannot prove it knows the node gets no proof, and nothing it asks is done (${how})`, async () => {
        const held = (await store.list()).sort();
        assert.ok(held.length > 0);
        const stranger = await impostor(forger(how, () => held));
        await listed(stranger, `gw-forger-${how.replace(/ /g, '-')}`);
        await waitFor(() => stranger.fromNode.filter((type) => type === 'hello').length >= 2, 30_000, 'the node tried the stranger twice');
        assert.deepEqual([...new Set(stranger.fromNode)], ['hello'], 'no proof, no answer, no inventory');
        assert.deepEqual((await store.list()).sort(), held, 'nothing deleted');
        assert.equal(agent.state, 'online');
      });
    }
  });
}
