import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../testing/cluster.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';
import { startGateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

const HOUR_MS = 3_600_000;

test('a node that falls silent is dropped on time although the wall clock is stepped back an hour meanwhile', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-stepped-clock-'));
  const gateway = await startGateway({ port: 0, dataDir, heartbeatMs: 100, offlineAfterMs: 1500 });
  const realNow = Date.now;
  try {
    const node = await ScriptedNode.connect({ gatewayUrl: gateway.url, nodeId: 'n1', token: 'token-of-n1', join: loadJoinSecret(dataDir) });
    await node.sendInventory([]);
    await waitFor(() => gateway.registry.link('n1')?.state === 'online', 30_000, 'the node online');
    node.goSilent();
    // As NTP does to a clock found running ahead.
    Date.now = () => realNow() - HOUR_MS;
    await waitFor(() => gateway.registry.link('n1') === undefined, 30_000, 'the silent node dropped');
  } finally {
    Date.now = realNow;
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
