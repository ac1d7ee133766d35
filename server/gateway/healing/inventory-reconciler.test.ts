import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import type { NodeLink } from '../nodes/node-link.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';
import { InventoryReconciler } from './inventory-reconciler.ts';

const [A, B, C, D, E] = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(64)) as [string, string, string, string, string];

test('an inventory, page by page, drops records the node no longer lists, adds none, and leaves the rest to collection, capped', async () => {
  const store = SqliteMetadataStore.open(':memory:');
  try {
    const file = { size: 2, sha256: '0'.repeat(64), chunkSize: 1, replicas: 2, createdAt: '2025-01-01T00:00:00.000Z' };
    await store.commitFile({ ...file, name: 'x', chunks: [{ hash: A, size: 1 }, { hash: B, size: 1 }] }, [A, B].map((hash) => ({ hash, size: 1, nodeIds: ['n1'] })));
    await store.commitFile({ ...file, name: 'y', chunks: [{ hash: C, size: 1 }] }, [{ hash: C, size: 1, nodeIds: ['n2'] }]);
    const unreferenced = new UnreferencedCopies(2);
    const reconciler = new InventoryReconciler(store, {} as ReplicaStore, unreferenced);
    const link = { id: 'n1', state: 'joining' } as NodeLink;

    // As a link hands them on: each page as it arrives, none waiting for the one before.
    await Promise.all([reconciler.inventory(link, [A, C], false), reconciler.inventory(link, [D, E], true)]);
    assert.deepEqual(await store.chunksOnNode('n1'), [A], 'B, unlisted, lost its record; C, listed but never written there, gained none');
    assert.deepEqual((await store.getChunks([C])).get(C)?.nodeIds, ['n2']);
    assert.deepEqual(unreferenced.due('n1', Infinity), [C, D], 'what the node listed beyond its records waits for collection, up to the cap');

    reconciler.left(link);
    assert.equal(unreferenced.size, 0, 'a node that went away leaves nothing pending');
  } finally {
    await store.close();
  }
});

test('a report of copies the node no longer holds loses only those recorded there, saying whether they were damaged or missing', async () => {
  const store = SqliteMetadataStore.open(':memory:');
  try {
    const file = { size: 2, sha256: '0'.repeat(64), chunkSize: 1, replicas: 2, createdAt: '2025-01-01T00:00:00.000Z' };
    await store.commitFile({ ...file, name: 'x', chunks: [{ hash: A, size: 1 }, { hash: B, size: 1 }] }, [
      { hash: A, size: 1, nodeIds: ['n1', 'n2'] },
      { hash: B, size: 1, nodeIds: ['n2'] },
    ]);
    const lost: string[] = [];
    const replicas = { lost: async (hash: string, nodeId: string, reason: string) => void lost.push(`${hash[0]} ${nodeId} ${reason}`) } as ReplicaStore;
    const reconciler = new InventoryReconciler(store, replicas, new UnreferencedCopies());
    const link = { id: 'n1', state: 'online' } as NodeLink;

    await reconciler.corrupt(link, [A, B, C], true);
    await reconciler.corrupt(link, [A], false);
    assert.deepEqual(lost, ['a n1 CHUNK_NOT_FOUND (missing from storage)', 'a n1 CHUNK_CORRUPT (scrub)']);
  } finally {
    await store.close();
  }
});
