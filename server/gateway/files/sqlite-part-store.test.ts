import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { SqlitePartStore } from './sqlite-part-store.ts';

test('SqlitePartStore: a data directory from before resumable sessions keeps its S3 uploads in parts, which have no expiry to move', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-part-store-'));
  const path = join(dir, 'metadata.db');
  try {
    // The schema as the release before resumable sessions left it, with an S3 upload in parts.
    const resumableSessions = MIGRATIONS.findIndex((sql) => sql.includes('ALTER TABLE upload_sessions ADD COLUMN expires_at'));
    assert.ok(resumableSessions > 0);
    const old = new Database(path);
    for (const sql of MIGRATIONS.slice(0, resumableSessions)) old.exec(sql);
    old.pragma(`user_version = ${resumableSessions}`);
    old.exec(`INSERT INTO upload_sessions VALUES ('s1', '2026-01-01T00:00:00.000Z');
      INSERT INTO upload_parts VALUES ('s1', 1, 10, 'md5', '[{"hash":"${'a'.repeat(64)}","size":10}]', '[]', '2026-01-01T00:00:00.000Z');`);
    old.close();

    const store = SqliteMetadataStore.open(path);
    try {
      const parts = new SqlitePartStore(store.database);
      assert.deepEqual(await parts.getSession('s1'), { id: 's1', createdAt: '2026-01-01T00:00:00.000Z' });
      await parts.setExpiry('s1', '2026-01-02T00:00:00.000Z');
      assert.deepEqual(await parts.listSessions(), [{ id: 's1', createdAt: '2026-01-01T00:00:00.000Z' }]);
      assert.deepEqual((await parts.listParts('s1')).map((part) => part.chunks), [[{ hash: 'a'.repeat(64), size: 10 }]]);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
