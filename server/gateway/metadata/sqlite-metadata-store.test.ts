import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { metadataStoreContract } from './metadata-store.contract.ts';
import type { ChunkRecord, FileRecord } from './metadata-store.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';

for (const c of metadataStoreContract(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-metadata-'));
  const path = join(dir, 'metadata.db');
  return {
    store: SqliteMetadataStore.open(path),
    reopen: async () => SqliteMetadataStore.open(path),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
})) {
  test(`SqliteMetadataStore: ${c.name}`, c.run);
}

test('SqliteMetadataStore: a commit that fails midway leaves the previous state untouched', async () => {
  const store = SqliteMetadataStore.open(':memory:');
  try {
    const [a, b] = ['a', 'b'].map((c) => c.repeat(64));
    const before: FileRecord = {
      name: 'x', size: 10, sha256: '0'.repeat(64), chunkSize: 10, chunks: [a], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z',
    };
    await store.commitFile(before, [{ hash: a, size: 10, nodeIds: ['n1'] }]);

    const broken: ChunkRecord = { hash: b, size: 'ten' as unknown as number, nodeIds: ['n1'] };
    await assert.rejects(
      store.commitFile({ ...before, size: 20, chunks: [a, b] }, [{ hash: a, size: 10, nodeIds: ['n2'] }, broken]),
      /cannot store TEXT value in INTEGER column/,
    );
    await assert.rejects(store.commitFile({ ...before, name: 'y', chunks: [b] }, []), /FOREIGN KEY/, 'a chunk with no record');

    assert.deepEqual(await store.listFiles(), [before]);
    assert.deepEqual([...(await store.getChunks([a, b])).values()], [{ hash: a, size: 10, nodeIds: ['n1'] }]);
    assert.deepEqual(await store.chunksOnNode('n2'), []);
  } finally {
    await store.close();
  }
});
