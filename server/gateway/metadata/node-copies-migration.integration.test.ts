import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { postgresUnavailable, startPostgres } from '../../testing/postgres-server.ts';
import type { MetadataStore } from './metadata-store.ts';
import { PostgresMetadataStore } from './postgres-metadata-store.ts';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';
import { MIGRATIONS, SqliteMetadataStore } from './sqlite-metadata-store.ts';

// A database written by the release before the per-node counts: they are filled in from what it holds.
const [A, B, C] = ['a', 'b', 'c'].map((c) => c.repeat(64));
const WRITTEN_BEFORE = `
INSERT INTO chunks (hash, size) VALUES ('${A}', 10), ('${B}', 10), ('${C}', 10);
INSERT INTO files (name, size, sha256, chunk_size, replicas, created_at, version, manifest)
  VALUES ('x', 20, '${'0'.repeat(64)}', 10, 2, '2025-01-01T00:00:00.000Z', 0, NULL);
INSERT INTO file_chunks (file_name, idx, hash, size) VALUES ('x', 0, '${A}', 10), ('x', 1, '${B}', 10);
INSERT INTO replicas (hash, node_id) VALUES ('${A}', 'n1'), ('${A}', 'n2'), ('${B}', 'n2'), ('${C}', 'n1');
`;

const previous = (migrations: string[]) => migrations.findIndex((sql) => sql.includes('CREATE TABLE node_copies'));

async function checkCounted(store: MetadataStore): Promise<void> {
  // A on n1 n2, B on n2; C is referenced by nothing.
  assert.deepEqual(Object.fromEntries(await store.copiesPerNode(['n1', 'n2'], 2)), {
    n1: { recordedChunks: 1, atRiskChunks: 1 },
    n2: { recordedChunks: 2, atRiskChunks: 2 },
  });
  assert.deepEqual(await store.replicationSummary(['n1'], 2), { files: 1, chunks: 2, underReplicated: 2, unavailable: 1 });
  assert.deepEqual((await store.listChunkPage({ select: { copiesBelow: 2 }, limit: 10 })).chunks.map((c) => c.hash), [B]);
  await store.addReplica(B!, 'n1');
  assert.deepEqual(await store.replicationSummary(['n1'], 2), { files: 1, chunks: 2, underReplicated: 2, unavailable: 0 }, 'counted on from there');
  assert.deepEqual((await store.holders()).sort(), ['n1', 'n2']);
}

test('SQLite: a database of the release before the per-node counts has them filled in', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-node-copies-'));
  const path = join(dir, 'metadata.db');
  try {
    const old = new Database(path);
    for (const sql of MIGRATIONS.slice(0, previous(MIGRATIONS))) old.exec(sql);
    old.pragma(`user_version = ${previous(MIGRATIONS)}`);
    old.exec(WRITTEN_BEFORE);
    old.close();
    const store = SqliteMetadataStore.open(path);
    try {
      await checkCounted(store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const unavailable = postgresUnavailable();
test('PostgreSQL: a database of the release before the per-node counts has them filled in', { skip: unavailable ?? false }, async () => {
  const server = await startPostgres();
  try {
    const url = await server.createDatabase();
    const old = new pg.Client({ connectionString: url });
    await old.connect();
    try {
      for (const sql of POSTGRES_MIGRATIONS.slice(0, previous(POSTGRES_MIGRATIONS))) await old.query(sql);
      await old.query('CREATE TABLE schema_version (version integer NOT NULL)');
      await old.query('INSERT INTO schema_version (version) VALUES ($1)', [previous(POSTGRES_MIGRATIONS)]);
      await old.query(WRITTEN_BEFORE);
    } finally {
      await old.end();
    }
    const { store, created } = await PostgresMetadataStore.open(url);
    try {
      assert.equal(created, false);
      await checkCounted(store);
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
  }
});
