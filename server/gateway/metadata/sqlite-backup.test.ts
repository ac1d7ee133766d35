import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';

// Bounded: a backup started over at every write never finishes, and the run must not wait for it.
test('a backup finishes while the gateway writes to the metadata all the time', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-backup-'));
  try {
    const source = join(dir, 'metadata.db');
    await (await SqliteMetadataStore.open(source)).close();
    // Another connection, as the running gateway's is: a database of many pages, written on every
    // turn of the event loop while the backup copies it.
    const gateway = new Database(source);
    gateway.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, bytes BLOB)');
    const fill = gateway.prepare('INSERT INTO filler (bytes) VALUES (randomblob(4000))');
    gateway.transaction(() => {
      for (let i = 0; i < 2000; i++) fill.run();
    })();
    const touch = gateway.prepare('UPDATE filler SET bytes = randomblob(4000) WHERE id = 1');
    let writes = 0;
    let writing = true;
    const write = (): void => {
      if (!writing) return;
      touch.run();
      writes++;
      setImmediate(write);
    };
    setImmediate(write);
    const target = join(dir, 'backup.db');
    try {
      await SqliteMetadataStore.backup(source, target);
    } finally {
      writing = false;
      gateway.close();
    }
    assert.ok(writes > 0, 'the source was written to while the backup ran');
    const copy = new Database(target, { readonly: true });
    try {
      assert.equal(copy.prepare('SELECT count(*) FROM filler').pluck().get(), 2000);
    } finally {
      copy.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
