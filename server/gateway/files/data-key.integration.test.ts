import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { startGateway } from '../start-gateway.ts';
import { DATA_KEY_FILE } from './chunk-cipher.ts';
import { CLUSTER_RECORD_KEY } from '../cluster/cluster-record.ts';

const HASH = 'ab'.repeat(32);

/** A gateway's data directory whose metadata lists one file, its chunk sealed (`key`) or plaintext. */
async function dataDirWithFile(sealed: boolean): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-data-key-'));
  await (await startGateway({ port: 0, dataDir })).close();
  const store = SqliteMetadataStore.open(join(dataDir, 'metadata.db'));
  const chunk = sealed ? { hash: HASH, size: 10, key: 'cd'.repeat(32) } : { hash: HASH, size: 10 };
  await store.commitFile(
    { name: 'kept.bin', size: 10, sha256: 'ef'.repeat(32), chunkSize: 10, chunks: [chunk], replicas: 1, createdAt: new Date().toISOString() },
    [{ hash: HASH, size: sealed ? 26 : 10, nodeIds: [] }],
  );
  await store.close();
  return dataDir;
}

test('a gateway whose data-key is gone refuses to start over encrypted files, and makes no new key', async () => {
  const dataDir = await dataDirWithFile(true);
  try {
    const original = (await readFile(join(dataDir, DATA_KEY_FILE), 'utf8')).trim();
    await rm(join(dataDir, DATA_KEY_FILE));
    await assert.rejects(startGateway({ port: 0, dataDir }), /has no data-key.*encrypted files.*shoal key import/s);
    await assert.rejects(readFile(join(dataDir, DATA_KEY_FILE)), { code: 'ENOENT' }, 'no key was made in its place');
    // The refusal leaves the directory unlocked and intact: with the key back it starts.
    await writeFile(join(dataDir, DATA_KEY_FILE), `${original}\n`, { mode: 0o600 });
    await (await startGateway({ port: 0, dataDir })).close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a data directory of plaintext files only (before encryption) gets its first data key', async () => {
  const dataDir = await dataDirWithFile(false);
  try {
    await rm(join(dataDir, DATA_KEY_FILE));
    // As that release left it: its metadata recorded no check of a data key (cluster/cluster-binding.ts).
    const store = SqliteMetadataStore.open(join(dataDir, 'metadata.db'));
    store.database.prepare('DELETE FROM gateway_state WHERE key = ?').run(CLUSTER_RECORD_KEY);
    await store.close();
    await (await startGateway({ port: 0, dataDir })).close();
    assert.match(await readFile(join(dataDir, DATA_KEY_FILE), 'utf8'), /^data_/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
