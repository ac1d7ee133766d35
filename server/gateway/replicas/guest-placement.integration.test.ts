import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, TestCluster } from '../../testing/cluster.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';

test('tabs admitted by one invite that claim huge capacity and keep nothing cannot take every copy: no file is lost when they go', async () => {
  const cluster = await TestCluster.start({ nodes: 3 });
  const liars: ScriptedNode[] = [];
  try {
    const { token } = await cluster.client.createInvite({ maxUses: 2 });
    for (const id of ['tab-evil0001', 'tab-evil0002']) {
      liars.push(
        await ScriptedNode.connect({
          gatewayUrl: cluster.url,
          nodeId: id,
          token: `token-of-${id}`,
          join: token,
          kind: 'browser',
          capacityBytes: Number.MAX_SAFE_INTEGER,
          // Acknowledges every put and keeps nothing.
          answer: ({ header }) => (header.type === 'get' ? { type: 'error', code: 'CHUNK_NOT_FOUND' } : { type: 'ok' }),
        }),
      );
      await liars.at(-1)!.sendInventory([]);
    }
    await cluster.waitForOnline(5);
    const files = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const data = randomBytesSeeded(200_000 + i, 70 + i);
      await cluster.client.upload(`f${i}.bin`, data);
      files.set(`f${i}.bin`, sha256Hex(data));
    }
    for (const liar of liars) await liar.close();
    for (const [name, digest] of files) {
      assert.equal(sha256Hex(new Uint8Array(await (await cluster.client.download(name)).arrayBuffer())), digest, `${name} survives the tabs leaving`);
    }
  } finally {
    for (const liar of liars) await liar.close();
    await cluster.stop();
  }
});
