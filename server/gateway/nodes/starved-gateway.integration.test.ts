import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway } from '../start-gateway.ts';

const HEARTBEAT_MS = 100;
const OFFLINE_AFTER_MS = 1500;

test('a gateway starved for longer than --offline-after-ms keeps its nodes: their answers were waiting unread, so they are judged only after it has listened again', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-starved-'));
  const gateway = await startGateway({ port: 0, dataDir, heartbeatMs: HEARTBEAT_MS, offlineAfterMs: OFFLINE_AFTER_MS });
  const node = startMemoryNode(gateway.url, dataDir, 'n1');
  try {
    await waitFor(() => gateway.registry.writableLinks().length === 1, 60_000, 'the node online');
    const link = gateway.registry.link('n1')!;
    // The gateway's (and the node's) process runs nothing else for twice the grace: a loaded machine, or a long pause.
    const stalledUntil = Date.now() + 2 * OFFLINE_AFTER_MS;
    while (Date.now() < stalledUntil);
    // Long enough for a heartbeat after the stall to judge the node, and for the ones after to see it answer.
    await sleep(2 * OFFLINE_AFTER_MS);
    assert.equal(gateway.registry.link('n1'), link, 'the node kept its session');
    assert.equal(link.state, 'online');
  } finally {
    node.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
