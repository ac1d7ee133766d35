import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import WebSocket from 'ws';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../../shared/node-agent.ts';
import { bulkUrl } from '../../../shared/protocol.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { ScriptedNode, type NodeRequest, type ScriptedAnswer } from '../../testing/scripted-node.ts';
import { sealedSize } from '../metadata/sealed-size.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { BulkTransfers } from './bulk-transfers.ts';
import { loadJoinSecret } from './join-secret.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const ALLOWED_ORIGIN = 'http://tabs.example';

let dataDir: string | undefined;
let gateway: Gateway | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await gateway?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  gateway = undefined;
});

async function start(): Promise<{ gateway: Gateway; client: ShoalClient; join: string }> {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-bulk-'));
  gateway = await startGateway({ port: 0, dataDir, replicas: 2, chunkSize: MiB, allowedOrigins: [ALLOWED_ORIGIN] });
  return { gateway, client: new ShoalClient(gateway.url, { token: gateway.adminToken }), join: loadJoinSecret(dataDir) };
}

function agent(gw: Gateway, nodeId: string, joinSecret: string, bulk: boolean): NodeAgent {
  const node = new NodeAgent({
    gatewayUrl: gw.url,
    nodeId,
    token: `the-token-of-${nodeId}`,
    join: joinSecret,
    kind: 'browser',
    bulk,
    store: new MemoryChunkStore(64 * MiB),
    WebSocket: WebSocket as unknown as SocketConstructor,
    backoffInitialMs: 50,
  });
  node.start();
  cleanups.push(() => node.stop());
  return node;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

test('nodes that offer HTTP transfers store and serve chunks over them, and their WebSockets carry no chunk bytes', async () => {
  const { gateway, client, join } = await start();
  for (const id of ['h1', 'h2']) agent(gateway, id, join, true);
  await waitFor(() => gateway.registry.writable('h1') && gateway.registry.writable('h2'), 30_000, 'both nodes online');
  const data = randomBytesSeeded(3 * MiB + 5, 21);
  await client.upload('bulk.bin', data);
  const back = new Uint8Array(await (await client.download('bulk.bin')).arrayBuffer());
  assert.equal(sha256(back), sha256(data));

  const traffic = ['h1', 'h2'].map((id) => gateway.registry.traffic.of(id));
  for (const t of traffic) {
    assert.ok(t.bulkBytesOut >= data.length, `${t.bulkBytesOut} bytes fetched by a node holding a copy of every chunk`);
    assert.ok(t.bytesOut < 64 * KiB, `${t.bytesOut} bytes went to a node over its WebSocket: chunks travelled in frames`);
  }
  assert.ok(traffic[0]!.bulkBytesIn + traffic[1]!.bulkBytesIn >= data.length, 'the download came over HTTP');
  assert.ok(traffic[0]!.bytesIn + traffic[1]!.bytesIn < 64 * KiB, 'chunk bytes came back over a WebSocket');
});

test('a node that does not offer HTTP transfers moves chunks in frames as before', async () => {
  const { gateway, client, join } = await start();
  agent(gateway, 'f1', join, false);
  agent(gateway, 'f2', join, false);
  await waitFor(() => gateway.registry.writable('f1') && gateway.registry.writable('f2'), 30_000, 'both nodes online');
  const data = randomBytesSeeded(2 * MiB, 22);
  await client.upload('framed.bin', data);
  assert.equal(sha256(new Uint8Array(await (await client.download('framed.bin')).arrayBuffer())), sha256(data));
  const t = gateway.registry.traffic.of('f1');
  assert.equal(t.bulkBytesOut + t.bulkBytesIn, 0);
  assert.ok(t.bytesOut >= data.length);
});

test('a transfer is refused to another node, a second use, a foreign origin and a body past the expected size; the node then answers in a frame', async () => {
  const { gateway, client, join } = await start();
  const seen: Record<string, number[]> = { 'another node': [], reuse: [], 'foreign origin': [], oversized: [], 'after a refusal': [] };
  const nodes: Record<string, ScriptedNode> = {};
  const held = new Map<string, Uint8Array>();
  let allowedOriginHeader: string | null = null;
  const answer =
    (me: string, other: string) =>
    async ({ header, payload }: NodeRequest): Promise<ScriptedAnswer> => {
      const url = (session: string) => bulkUrl(gateway.url, session, header.type === 'delete' ? '' : header.transfer ?? '');
      if (header.type === 'put') {
        if (header.transfer === undefined) {
          held.set(header.hash, payload);
          return { type: 'ok' };
        }
        seen['another node']!.push((await fetch(url(nodes[other]!.bulkSession!))).status);
        seen['foreign origin']!.push((await fetch(url(nodes[me]!.bulkSession!), { headers: { origin: 'http://evil.example' } })).status);
        const own = await fetch(url(nodes[me]!.bulkSession!), { headers: { origin: ALLOWED_ORIGIN } });
        allowedOriginHeader = own.headers.get('access-control-allow-origin');
        const bytes = new Uint8Array(await own.arrayBuffer());
        seen.reuse!.push((await fetch(url(nodes[me]!.bulkSession!))).status);
        if (sha256(bytes) !== header.hash) return { type: 'error', code: 'HASH_MISMATCH' };
        held.set(header.hash, bytes);
        return { type: 'ok' };
      }
      if (header.type === 'get') {
        const bytes = held.get(header.hash);
        if (!bytes) return { type: 'error', code: 'CHUNK_NOT_FOUND' };
        if (header.transfer !== undefined) {
          const post = (body: Uint8Array) => fetch(url(nodes[me]!.bulkSession!), { method: 'POST', body: body as Uint8Array<ArrayBuffer> });
          seen.oversized!.push((await post(new Uint8Array(sealedSize(MiB) + 1))).status);
          seen['after a refusal']!.push((await post(bytes)).status);
        }
        return { type: 'data', payload: bytes };
      }
      return { type: 'ok' };
    };
  for (const [me, other] of [['s1', 's2'], ['s2', 's1']] as const) {
    nodes[me] = await ScriptedNode.connect({ gatewayUrl: gateway.url, nodeId: me, token: `the-token-of-${me}`, join, kind: 'browser', bulk: true, answer: answer(me, other) });
    cleanups.push(() => nodes[me]!.close());
    await nodes[me]!.sendInventory([]);
  }
  assert.ok(nodes.s1!.bulkSession && nodes.s2!.bulkSession && nodes.s1!.bulkSession !== nodes.s2!.bulkSession, 'each session has its own key');
  await waitFor(() => gateway.registry.writable('s1') && gateway.registry.writable('s2'), 30_000, 'both nodes online');

  const data = randomBytesSeeded(MiB + 7, 23);
  await client.upload('attacked.bin', data);
  assert.equal(sha256(new Uint8Array(await (await client.download('attacked.bin')).arrayBuffer())), sha256(data));
  for (const [attempt, statuses] of Object.entries(seen)) {
    assert.ok(statuses.length > 0, `no ${attempt} attempt was made`);
    assert.ok(statuses.every((status) => status === (attempt === 'foreign origin' ? 403 : attempt === 'oversized' ? 413 : 404)), `${attempt}: ${statuses.join(', ')}`);
  }
  assert.equal(allowedOriginHeader, ALLOWED_ORIGIN, 'a page on an allowed origin may read the transfer');
});

test('transfers expire, and no more than the limit are open at once', async () => {
  const transfers = new BulkTransfers(2);
  const session = transfers.newSession();
  const traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, bulkBytesIn: 0, bulkBytesOut: 0, errors: 0 };
  const transfer = { direction: 'to-node' as const, data: new Uint8Array(1), traffic, over: new AbortController().signal };
  const expiring = transfers.open(session, transfer, 10)!;
  const kept = transfers.open(session, transfer, 60_000)!;
  assert.equal(transfers.open(session, transfer, 60_000), null, 'a third transfer past the limit');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(transfers.take(session, expiring), undefined, 'an expired transfer was taken');
  assert.equal(transfers.take(transfers.newSession(), kept), undefined, 'a transfer was taken under another session key');
  assert.equal(transfers.take(session, kept), transfer);
  assert.equal(transfers.size, 0);
});
