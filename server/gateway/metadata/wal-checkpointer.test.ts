import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../testing/cluster.ts';
import type { FileRecord } from './metadata-store.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';
import { BACKSTOP_PAGES } from './wal-checkpointer.ts';

test('file commits reach the database file through the checkpoint worker, the connection checkpointing itself only as a backstop; closing removes the WAL', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-wal-'));
  const path = join(dir, 'metadata.db');
  const store = SqliteMetadataStore.open(path);
  try {
    assert.equal(store.database.pragma('wal_autocheckpoint', { simple: true }), BACKSTOP_PAGES);
    const before = statSync(path).size;
    const file = (i: number): FileRecord => {
      const hash = i.toString(16).padStart(64, '0');
      return { name: `f${i}`, size: 10, sha256: hash, chunkSize: 10, chunks: [{ hash, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z' };
    };
    for (let batch = 0; batch < 8; batch++) {
      await Promise.all(Array.from({ length: 32 }, (_, j) => {
        const f = file(batch * 32 + j);
        return store.commitFile(f, [{ hash: f.chunks[0]!.hash, size: 10, nodeIds: ['n1'] }]);
      }));
    }
    await waitFor(() => statSync(path).size > before, 60_000, 'the committed pages copied into the database file');
  } finally {
    await store.close();
  }
  assert.equal(existsSync(`${path}-wal`), false, 'the last connection to close checkpointed and removed the WAL');
  const reopened = SqliteMetadataStore.open(path);
  try {
    assert.equal((await reopened.listFiles()).length, 256);
  } finally {
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('under commits that never pause, the WAL stays bounded: the worker alone always ends a few frames behind and it would never start over', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-wal-'));
  const path = join(dir, 'metadata.db');
  const store = SqliteMetadataStore.open(path);
  const pageBytes = store.database.pragma('page_size', { simple: true }) as number;
  let next = 0;
  let largest = 0;
  try {
    const commitUntil = async (count: number): Promise<void> => {
      while (next < count) {
        const hash = (next++).toString(16).padStart(64, '0');
        const file: FileRecord = { name: `f${hash}`, size: 10, sha256: hash, chunkSize: 10, chunks: [{ hash, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z' };
        await store.commitFile(file, [{ hash, size: 10, nodeIds: ['n1'] }]);
        if (next % 1000 === 0) largest = Math.max(largest, statSync(`${path}-wal`).size);
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => commitUntil(30_000)));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(largest <= 2 * BACKSTOP_PAGES * pageBytes, `the WAL reached ${largest} bytes`);
});
