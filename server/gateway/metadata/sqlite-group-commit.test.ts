import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FileRecord } from './metadata-store.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';

test('SqliteMetadataStore: of concurrent commits batched into one transaction, one that fails fails alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-group-commit-'));
  const store = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  try {
    const file = (name: string, hash: string): FileRecord => ({
      name, size: 10, sha256: '0'.repeat(64), chunkSize: 10, chunks: [{ hash, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z',
    });
    const good = ['a', 'b', 'c'].map((c) => c.repeat(64));
    const commits = [
      ...good.map((hash, i) => store.commitFile(file(`good-${i}`, hash), [{ hash, size: 10, nodeIds: ['n1'] }])),
      // Its chunk has no record: the foreign key fails this commit, in the same batch as the others.
      store.commitFile(file('broken', 'd'.repeat(64)), []),
    ];
    const outcomes = await Promise.allSettled(commits);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    assert.match(String((outcomes[3] as PromiseRejectedResult).reason), /FOREIGN KEY/);
    assert.deepEqual((await store.listFiles()).map((f) => f.name), ['good-0', 'good-1', 'good-2']);
    await store.close();

    const again = SqliteMetadataStore.open(join(dir, 'metadata.db'));
    assert.deepEqual((await again.listFiles()).map((f) => f.name), ['good-0', 'good-1', 'good-2']);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
