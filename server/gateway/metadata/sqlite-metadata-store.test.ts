import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { metadataStoreContract } from './metadata-store.contract.ts';
import type { ChunkRecord, FileRecord } from './metadata-store.ts';
import { METADATA_SCHEMA_VERSION, SqliteMetadataStore } from './sqlite-metadata-store.ts';

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
      name: 'x', size: 10, sha256: '0'.repeat(64), chunkSize: 10, chunks: [{ hash: a!, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z',
    };
    await store.commitFile(before, [{ hash: a, size: 10, nodeIds: ['n1'] }]);

    const broken: ChunkRecord = { hash: b, size: 'ten' as unknown as number, nodeIds: ['n1'] };
    await assert.rejects(
      store.commitFile({ ...before, size: 20, chunks: [{ hash: a!, size: 10 }, { hash: b!, size: 10 }] }, [{ hash: a, size: 10, nodeIds: ['n2'] }, broken]),
      /cannot store TEXT value in INTEGER column/,
    );
    await assert.rejects(store.commitFile({ ...before, name: 'y', chunks: [{ hash: b!, size: 10 }] }, []), /FOREIGN KEY/, 'a chunk with no record');

    assert.deepEqual(await store.listFiles(), [before]);
    assert.deepEqual([...(await store.getChunks([a, b])).values()], [{ hash: a, size: 10, nodeIds: ['n1'], kind: 'chunk' }]);
    assert.deepEqual(await store.chunksOnNode('n2'), []);
  } finally {
    await store.close();
  }
});

test('SqliteMetadataStore: a data directory written by the first release is migrated and keeps everything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-metadata-v1-'));
  const path = join(dir, 'metadata.db');
  try {
    // What the first release left: its tables, no user_version, a node, a file and its replicas.
    const old = new Database(path);
    old.exec(FIRST_RELEASE_SCHEMA);
    old.exec(`INSERT INTO nodes VALUES ('n1', 'disk', 100, 10, 1, 2, '${'e'.repeat(64)}', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z', 1);
      INSERT INTO files VALUES ('a.txt', 25, '${'0'.repeat(64)}', 10, 2, '2025-01-01T00:00:00.000Z');
      INSERT INTO chunks VALUES ('${'a'.repeat(64)}', 10), ('${'b'.repeat(64)}', 10), ('${'c'.repeat(64)}', 5);
      INSERT INTO file_chunks VALUES ('a.txt', 0, '${'a'.repeat(64)}'), ('a.txt', 1, '${'b'.repeat(64)}'), ('a.txt', 2, '${'c'.repeat(64)}');
      INSERT INTO replicas VALUES ('${'a'.repeat(64)}', 'n1');`);
    old.close();

    const store = SqliteMetadataStore.open(path);
    try {
      assert.deepEqual((await store.getNode('n1'))?.draining, true);
      assert.equal((await store.getNode('n1'))?.quarantine, null);
      assert.deepEqual(
        (await store.getFile('a.txt'))?.chunks,
        [{ hash: 'a'.repeat(64), size: 10 }, { hash: 'b'.repeat(64), size: 10 }, { hash: 'c'.repeat(64), size: 5 }],
        'every chunk of then is plaintext and chunk_size long but the last',
      );
      assert.deepEqual(await store.chunksOnNode('n1'), ['a'.repeat(64)]);
      assert.deepEqual(await store.listInvites(), []);
      assert.deepEqual([...(await store.versions())], [['a.txt', 0]], 'a file of then has version 0 and no manifest');
      assert.deepEqual((await store.filesWithoutManifest()).map((f) => f.name), ['a.txt']);
      assert.equal(await store.recoveryNeeded(), null);
      assert.deepEqual(await store.replicationSummary(['n1'], 2), { files: 1, chunks: 3, underReplicated: 3, unavailable: 2 }, 'counts filled in for what was there: b and c had no copy');
    } finally {
      await store.close();
    }
    const check = new Database(path);
    assert.equal(check.pragma('user_version', { simple: true }), METADATA_SCHEMA_VERSION);
    check.pragma(`user_version = ${METADATA_SCHEMA_VERSION + 1}`);
    check.close();
    assert.throws(() => SqliteMetadataStore.open(path), /newer than this release/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The tables as the first release (before schema versions) created them. */
const FIRST_RELEASE_SCHEMA = `
CREATE TABLE nodes (id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('disk', 'browser')), capacity_bytes INTEGER NOT NULL,
  used_bytes INTEGER NOT NULL, chunk_count INTEGER NOT NULL, cpu REAL, token_hash TEXT NOT NULL, created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL, draining INTEGER NOT NULL CHECK (draining IN (0, 1))) STRICT;
CREATE TABLE files (name TEXT PRIMARY KEY, size INTEGER NOT NULL, sha256 TEXT NOT NULL, chunk_size INTEGER NOT NULL,
  replicas INTEGER NOT NULL, created_at TEXT NOT NULL) STRICT;
CREATE TABLE chunks (hash TEXT PRIMARY KEY, size INTEGER NOT NULL) STRICT, WITHOUT ROWID;
CREATE TABLE file_chunks (file_name TEXT NOT NULL REFERENCES files (name) ON DELETE CASCADE, idx INTEGER NOT NULL,
  hash TEXT NOT NULL REFERENCES chunks (hash), PRIMARY KEY (file_name, idx)) STRICT, WITHOUT ROWID;
CREATE INDEX file_chunks_by_hash ON file_chunks (hash);
CREATE TABLE replicas (hash TEXT NOT NULL REFERENCES chunks (hash) ON DELETE CASCADE, node_id TEXT NOT NULL,
  PRIMARY KEY (hash, node_id)) STRICT, WITHOUT ROWID;
CREATE INDEX replicas_by_node ON replicas (node_id);
`;
