import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAllIntact, TestCluster, uploadSet } from '../../testing/cluster.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';
import { loadJoinSecret } from '../nodes/join-secret.ts';

/** Far more than the honest node: placement ranks such a node first for every chunk. */
const HUGE = 2 ** 52;

test('a node that sends wrong bytes for a whole chunk asked as a span, and the right ones asked whole, is blamed for them', async () => {
  const cluster = await TestCluster.start({ nodes: 1 });
  try {
    const held = new Map<string, Uint8Array>();
    let spansLied = 0;
    const node = await ScriptedNode.connect({
      gatewayUrl: cluster.url,
      nodeId: 'liar',
      token: 'token-of-liar-scripted',
      join: loadJoinSecret(cluster.dataDir),
      capacityBytes: HUGE,
      answer: ({ header, payload }) => {
        if (header.type === 'delete') return { type: 'ok' };
        if (header.type === 'put') {
          held.set(header.hash, Uint8Array.from(payload));
          return { type: 'ok' };
        }
        const bytes = held.get(header.hash);
        if (!bytes) return { type: 'error', code: 'CHUNK_NOT_FOUND' };
        if (header.offset === undefined) return { type: 'data', payload: bytes };
        // Asked for a span, it flips a byte: the gateway's tags catch it, and its hash check of
        // the whole copy asked next finds nothing wrong.
        spansLied++;
        const lie = Uint8Array.from(bytes.subarray(header.offset, header.offset + header.length!));
        lie[0]! ^= 1;
        return { type: 'data', payload: lie };
      },
    });
    await node.sendInventory([]);
    await cluster.waitForOnline(2);
    const files = await uploadSet(cluster, 5, 20_000, 1300);
    // The liar is the only copy left to read.
    await cluster.killNode('node1');
    await assertAllIntact(cluster, files);
    assert.ok(spansLied >= 3, `the liar lied about ${spansLied} spans`);
    const liar = (await cluster.client.nodes()).find((n) => n.id === 'liar');
    assert.match(liar?.quarantine ?? '', /wrong bytes/, `a node that lied about ${spansLied} chunks is quarantined`);
    await node.close();
  } finally {
    await cluster.stop();
  }
});
