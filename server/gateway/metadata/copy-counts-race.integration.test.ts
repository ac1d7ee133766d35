import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { ShoalError } from '../../../shared/errors.ts';
import { describeWithPostgres } from '../../testing/postgres-suite.ts';
import type { FileRecord } from './metadata-store.ts';
import { PostgresMetadataStore, serializable } from './postgres-metadata-store.ts';

const NODES = ['n1', 'n2', 'n3', 'n4'];
const HASHES = Array.from({ length: 6 }, (_, i) => `${i}`.padStart(64, 'c'));

function fileOf(name: string, hashes: string[]): FileRecord {
  return { name, size: hashes.length, sha256: null, chunkSize: 1, chunks: hashes.map((hash) => ({ hash, size: 1 })), replicas: 2, createdAt: new Date().toISOString() };
}

/** A small deterministic generator: each gateway's steps differ, but a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

// Two gateways' stores on one database change the copies and the liveness of the same few chunks
// at once: files committed and deleted over them, copies added and removed. The counts the
// triggers keep (node_copies, file_count) must end equal to a direct count of the rows.
describeWithPostgres('copy counters under concurrent writes from two gateways', (postgres) => {
  let stores: PostgresMetadataStore[];
  let url: string;
  before(async () => {
    url = await postgres().createDatabase();
    stores = [(await PostgresMetadataStore.open(url)).store, (await PostgresMetadataStore.open(url)).store];
  });
  after(async () => {
    for (const store of stores ?? []) await store.close();
  });

  test('a change the database keeps refusing for concurrent ones ends in a clear 503 saying nothing changed, not a raw driver error', { timeout: 60_000 }, async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      let attempts = 0;
      const refused = serializable(pool, async (db) => {
        attempts++;
        await db.query(`DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = '40001'; END $$`);
      });
      await assert.rejects(refused, (err: unknown) => err instanceof ShoalError && err.status === 503 && err.code === 'METADATA_BUSY');
      assert.ok(attempts > 1, 'it was tried again first');
    } finally {
      await pool.end();
    }
  });

  test('node_copies and file_count equal a direct count after concurrent commits, deletes and copy changes', { timeout: 120_000 }, async () => {
    let busy = 0;
    const steps = async (store: PostgresMetadataStore, seed: number, worker: number) => {
      const random = seeded(seed);
      const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
      for (let i = 0; i < 150; i++) {
        const roll = random();
        const hash = pick(HASHES);
        const name = `f${worker}-${Math.floor(random() * 4)}`;
        try {
          await step(store, roll, hash, name, pick);
        } catch (err) {
          // A change refused for good changed nothing: the counts must still agree below.
          if (!(err instanceof ShoalError && err.code === 'METADATA_BUSY')) throw err;
          busy++;
        }
      }
    };
    const step = async (store: PostgresMetadataStore, roll: number, hash: string, name: string, pick: <T>(items: T[]) => T) => {
        if (roll < 0.3) {
          const hashes = [hash, pick(HASHES)];
          await store.commitFile(fileOf(name, hashes), hashes.map((h) => ({ hash: h, size: 1, nodeIds: [pick(NODES), pick(NODES)] })));
        } else if (roll < 0.5) await store.deleteFile(name);
        else if (roll < 0.75) await store.addReplicas([{ hash, nodeId: pick(NODES) }, { hash: pick(HASHES), nodeId: pick(NODES) }]);
        else if (roll < 0.95) await store.removeReplica(hash, pick(NODES));
        else await store.forgetUnreferenced([hash]);
    };
    // Four writers per store, as concurrent requests on each gateway.
    await Promise.all([0, 1].flatMap((g) => [0, 1, 2, 3].map((w) => steps(stores[g]!, 7 + 10 * g + w, 4 * g + w))));

    console.log(`# ${busy} changes refused for good (METADATA_BUSY)`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const truth = await client.query<{ node_id: string; copies: number; chunks: number }>(
        `SELECT r.node_id, c.copies, count(*)::int AS chunks FROM replicas r JOIN chunks c ON c.hash = r.hash WHERE c.refs > 0 GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const counted = await client.query<{ node_id: string; copies: number; chunks: number }>(
        `SELECT node_id, copies, sum(chunks)::int AS chunks FROM node_copies GROUP BY 1, 2 HAVING sum(chunks) <> 0 ORDER BY 1, 2`,
      );
      assert.deepEqual(counted.rows, truth.rows, 'node_copies equals the replicas of live chunks');
      const copies = await client.query(`SELECT hash FROM chunks c WHERE copies <> (SELECT count(*) FROM replicas r WHERE r.hash = c.hash)`);
      assert.deepEqual(copies.rows, [], 'chunks.copies equals its replicas');
      const files = await client.query<{ a: number; b: number }>(`SELECT (SELECT count(*)::int FROM files) AS a, (SELECT coalesce(sum(files), 0)::int FROM file_count) AS b`);
      assert.equal(files.rows[0]!.b, files.rows[0]!.a, 'file_count equals the files');
      const refs = await client.query(
        `SELECT hash FROM chunks c WHERE refs <> (SELECT count(*) FROM file_chunks f WHERE f.hash = c.hash) + (SELECT count(*) FROM files f WHERE f.manifest = c.hash) + (SELECT count(*) FROM tombstones t WHERE t.manifest = c.hash)`,
      );
      assert.deepEqual(refs.rows, [], 'chunks.refs equals the references');
    } finally {
      await client.end();
    }
  });
});
