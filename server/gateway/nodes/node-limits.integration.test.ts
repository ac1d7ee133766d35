import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../../shared/node-agent.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';
import { sealedSize } from '../metadata/sealed-size.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

let dataDir: string;
let gateway: Gateway | undefined;
let node: NodeAgent | undefined;

after(async () => {
  node?.stop();
  await gateway?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('chunks written under a larger --chunk-size stay readable after it is lowered, and a frame past the largest chunk closes the link', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-frame-limits-'));
  gateway = await startGateway({ port: 0, dataDir, replicas: 1, chunkSize: MiB });
  node = new NodeAgent({
    gatewayUrl: gateway.url,
    nodeId: 'n1',
    token: 'the-token-of-n1',
    join: loadJoinSecret(dataDir),
    kind: 'disk',
    store: new MemoryChunkStore(64 * MiB),
    WebSocket: WebSocket as unknown as SocketConstructor,
    backoffInitialMs: 50,
    backoffMaxMs: 400,
  });
  node.start();
  await waitFor(() => gateway!.registry.writable('n1'), 30_000, 'n1 online');
  const data = randomBytesSeeded(3 * MiB + 5, 11);
  await new ShoalClient(gateway.url, { token: gateway.adminToken }).upload('big-chunks.bin', data);

  const port = gateway.port;
  await gateway.close();
  gateway = await startGateway({ port, dataDir, replicas: 1, chunkSize: 64 * KiB });
  await waitFor(() => gateway!.registry.readable('n1'), 30_000, 'n1 back online');
  const back = Buffer.from(await (await new ShoalClient(gateway.url, { token: gateway.adminToken }).download('big-chunks.bin')).arrayBuffer());
  assert.ok(back.equals(data), 'a file of 1 MiB chunks does not read back under --chunk-size 64KiB');

  const talker = await ScriptedNode.connect({ gatewayUrl: gateway.url, nodeId: 'big-talker', token: 'the-token-of-big-talker', join: loadJoinSecret(dataDir) });
  // The largest chunk travels sealed: its plaintext plus a tag per segment.
  const largest = sealedSize(MiB);
  await talker.send({ type: 'data', id: 1 }, new Uint8Array(largest + 1));
  const closed = await Promise.race([talker.closed, new Promise<null>((resolve) => setTimeout(resolve, 30_000, null).unref())]);
  assert.equal(closed?.code, CLOSE.PROTOCOL_ERROR, 'a frame one byte past the largest sealed chunk was taken');
  assert.match(closed!.reason, new RegExp(`payload of ${largest + 1} bytes exceeds ${largest}\\b`));
});

test('usage reports are taken as they come but published at most once a second, and a node within the budget stays connected', async () => {
  const published: number[] = [];
  const unsubscribe = gateway!.events.subscribe((event) => {
    if (event.type === 'node.stats' && event.node.id === 'reporter') published.push(event.node.usedBytes);
  });
  const reporter = await ScriptedNode.connect({ gatewayUrl: gateway!.url, nodeId: 'reporter', token: 'the-token-of-reporter', join: loadJoinSecret(dataDir) });
  await reporter.sendInventory([]);
  const startedAt = Date.now();
  for (let i = 1; i <= 50; i++) await reporter.send({ type: 'stats', usedBytes: i * 1000, chunkCount: i });
  await waitFor(() => published.at(-1) === 50_000, 30_000, 'the last report published');
  unsubscribe();
  // One a second at most, over however long a loaded machine took to send the 50 reports.
  const seconds = Math.floor((Date.now() - startedAt) / 1000);
  assert.ok(published.length <= seconds + 1, `${published.length} node.stats events for 50 reports in ${seconds + 1} s`);
  assert.equal((await gateway!.registry.view('reporter'))?.usedBytes, 50_000);
  await reporter.send({ type: 'stats', usedBytes: 51_000, chunkCount: 51 });
  await reporter.close();
});
