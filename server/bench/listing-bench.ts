import { join } from 'node:path';
import { sweepPages } from '../gateway/healing/chunk-sweep.ts';
import type { MetadataStore } from '../gateway/metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../gateway/metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from '../gateway/metadata/sqlite-metadata-store.ts';
import { METADATA_FILE } from '../gateway/open-metadata.ts';
import { TestCluster } from '../testing/cluster.ts';
import { startPostgres } from '../testing/postgres-server.ts';
import { timed } from './timed.ts';

const BATCH = 100_000;
const FILES_PER_FOLDER = 1000;
const RUNS = 3;

export interface ListingFigures {
  store: 'postgres' | 'sqlite';
  files: number;
  loadSeconds: number;
  /** Median milliseconds of RUNS calls, after one to warm up; `cold` is that first one. */
  ms: Record<string, { cold: number; median: number }>;
  /**
   * The repair sweep with one node offline, through the store: the chunks its pass reads, in
   * pages, and the most heap that took above what was in use before; and the heap listChunks(),
   * what the sweep read before, holds.
   */
  sweep: { chunks: number; seconds: number; peakHeapMB: number; listChunksHeapMB: number };
}

/**
 * `npm run bench -- --listing [--files 1000000] [--sqlite]`: `files` file records (one 16 KiB
 * chunk and a manifest each, two copies of both on four nodes, in folders of 1000) written
 * straight into the store's own tables, then requests timed through a real gateway process on
 * them: pages of 1,000 at the start, in the middle and by folder; health's and the nodes' counts
 * from the store itself, with every node online, one offline, two, and none; the repair sweep's
 * pass with one node offline; then /api/health and /api/nodes, which see no node online: the bench
 * nodes exist only in the metadata (real ones would drop the copies they lack).
 */
export async function benchListing(options: { files: number; store: 'postgres' | 'sqlite' }): Promise<ListingFigures> {
  const postgres = options.store === 'postgres' ? await startPostgres() : null;
  try {
    const url = postgres ? await postgres.createDatabase() : undefined;
    // The first start makes the schema, the cluster id and the admin token; the records go in while it is stopped.
    const cluster = await TestCluster.start({ nodes: 0, gatewayArgs: url ? ['--metadata', url] : [] });
    try {
      await cluster.kill(cluster.gateway, 'SIGTERM');
      const load = await timed(() => (url ? loadPostgres(url, options.files) : loadSqlite(join(cluster.dataDir, METADATA_FILE), options.files)));
      await cluster.startGateway();
      const middle = fileName(Math.floor(options.files / 2));
      const requests: Record<string, string> = {
        'page of 1000, first': '/api/files?limit=1000',
        'page of 1000, middle': `/api/files?limit=1000&after=${encodeURIComponent(middle)}`,
        'page of 1000 folders (delimiter)': '/api/files?limit=1000&delimiter=/&prefix=bench/',
        'page of a folder (delimiter)': `/api/files?limit=1000&delimiter=/&prefix=${encodeURIComponent(middle.slice(0, middle.lastIndexOf('/') + 1))}`,
      };
      const ms: ListingFigures['ms'] = {};
      let sweep: ListingFigures['sweep'];
      const get = async (path: string) => {
        const res = await cluster.fetch(path);
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      };
      for (const [label, path] of Object.entries(requests)) ms[label] = await timeRuns(() => get(path));
      // The gateway sees no node online, the worst case for health's counts; the store, asked
      // directly, shows the usual one too: every node holding copies readable.
      const store = url ? (await PostgresMetadataStore.open(url)).store : SqliteMetadataStore.open(join(cluster.dataDir, METADATA_FILE));
      try {
        const [, ...online] = NODE_IDS;
        const calls: Record<string, () => Promise<unknown>> = {
          'store: health counts, all nodes online': () => store.replicationSummary(NODE_IDS, 2),
          'store: health counts, one node offline': () => store.replicationSummary(online, 2),
          'store: health counts, all nodes offline': () => store.replicationSummary([], 2),
          'store: node figures, all nodes online': () => store.copiesPerNode(NODE_IDS, 2),
          'store: node figures, one node offline': () => store.copiesPerNode(online, 2),
          // Two of four away: which chunks they share is not in the counts, so their copies are read.
          'store: health counts, two nodes offline': () => store.replicationSummary(NODE_IDS.slice(2), 2),
        };
        for (const [label, call] of Object.entries(calls)) ms[label] = await timeRuns(call);
        sweep = await sweepFigures(store, NODE_IDS[0]!);
      } finally {
        await store.close();
      }
      // Last, as they are the slowest here: with no node online every copy is one that cannot be read.
      for (const path of ['/api/health', '/api/nodes']) ms[`${path} (no node online)`] = await timeRuns(() => get(path));
      return { store: options.store, files: options.files, loadSeconds: round(load.seconds), ms, sweep };
    } finally {
      await cluster.stop();
    }
  } finally {
    await postgres?.stop();
  }
}

/** A repair sweep's pass with `offline` away, page by page as RepairService reads it, and what listChunks() held instead. */
async function sweepFigures(store: MetadataStore, offline: string): Promise<ListingFigures['sweep']> {
  const base = heapUsed();
  let peak = base;
  let chunks = 0;
  const pass = await timed(async () => {
    const unwritable = (await store.holders()).filter((id) => id === offline);
    for await (const page of sweepPages(store, { replicas: 2, unwritable, all: false })) {
      chunks += page.chunks.length;
      peak = Math.max(peak, heapUsed());
    }
  });
  const before = heapUsed();
  const all = await store.listChunks();
  const listChunksHeapMB = round((heapUsed() - before) / 2 ** 20);
  all.length = 0;
  return { chunks, seconds: round(pass.seconds), peakHeapMB: round((peak - base) / 2 ** 20), listChunksHeapMB };
}

function heapUsed(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Milliseconds of a first call, and the median of RUNS after it. */
async function timeRuns(call: () => Promise<unknown>): Promise<{ cold: number; median: number }> {
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) times.push((await timed(call)).seconds * 1000);
  const warm = times.slice(1).sort((a, b) => a - b);
  return { cold: round(times[0]!), median: round(warm[Math.floor(warm.length / 2)]!) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** bench/0500/file-0500123.bin: FILES_PER_FOLDER to a folder. */
function fileName(i: number): string {
  return `bench/${String(Math.floor(i / FILES_PER_FOLDER)).padStart(4, '0')}/file-${String(i).padStart(7, '0')}.bin`;
}

/** The same names in SQL, from a series column `i`. */
const NAME_SQL = {
  postgres: `'bench/' || lpad((i / ${FILES_PER_FOLDER})::text, 4, '0') || '/file-' || lpad(i::text, 7, '0') || '.bin'`,
  sqlite: `printf('bench/%04d/file-%07d.bin', i / ${FILES_PER_FOLDER}, i)`,
};
const MANIFEST_OFFSET = 2 ** 40;
const NOW = '2026-01-01T00:00:00.000Z';
const NODE_IDS = ['bench-1', 'bench-2', 'bench-3', 'bench-4'];

async function loadPostgres(url: string, files: number): Promise<void> {
  const { store } = await PostgresMetadataStore.open(url);
  const hash = (offset: number) => `lpad(to_hex(i + ${offset}), 64, '0')`;
  try {
    const db = await store.pool.connect();
    // Triggers (and foreign key checks) off for this loading session: it writes every chunk's
    // counts itself, rather than have a trigger update 6 million rows one at a time.
    await db.query('SET session_replication_role = replica');
    for (const id of NODE_IDS) {
      await db.query(`INSERT INTO nodes VALUES ($1, 'disk', 1e12, 0, 0, 2, $2, $3, $3, false, NULL)`, [id, 'e'.repeat(64), NOW]);
    }
    for (let lo = 0; lo < files; lo += BATCH) {
      const series = `generate_series(${lo}::int8, ${Math.min(files, lo + BATCH) - 1}::int8) AS i`;
      await db.query('BEGIN');
      await db.query(
        `INSERT INTO chunks (hash, size, refs, copies) SELECT ${hash(0)}, 16384, 1, 2 FROM ${series} UNION ALL SELECT ${hash(MANIFEST_OFFSET)}, 400, 1, 2 FROM ${series}`,
      );
      for (const offset of [0, MANIFEST_OFFSET]) {
        await db.query(
          `INSERT INTO replicas (hash, node_id)
           SELECT ${hash(offset)}, 'bench-' || (i % 4 + 1) FROM ${series} UNION ALL SELECT ${hash(offset)}, 'bench-' || ((i + 1) % 4 + 1) FROM ${series}`,
        );
      }
      await db.query(
        `INSERT INTO files (name, size, sha256, chunk_size, replicas, created_at, version, manifest)
         SELECT ${NAME_SQL.postgres}, 16384, repeat('0', 64), 4194304, 2, '${NOW}', i + 1, ${hash(MANIFEST_OFFSET)} FROM ${series}`,
      );
      await db.query(`INSERT INTO file_chunks (file_name, idx, hash, size) SELECT ${NAME_SQL.postgres}, 0, ${hash(0)}, 16384 FROM ${series}`);
      await db.query('COMMIT');
    }
    // What the triggers would have counted: each node's live chunks by their copies, and the files.
    await db.query(`INSERT INTO node_copies (node_id, copies, slot, chunks)
      SELECT r.node_id, c.copies, 0, count(*) FROM replicas r JOIN chunks c ON c.hash = r.hash WHERE c.refs > 0 GROUP BY r.node_id, c.copies`);
    await db.query('UPDATE file_count SET files = (SELECT count(*) FROM files)');
    await db.query('VACUUM ANALYZE');
    db.release();
  } finally {
    await store.close();
  }
}

async function loadSqlite(path: string, files: number): Promise<void> {
  const store = SqliteMetadataStore.open(path);
  const hash = (offset: number) => `printf('%064x', i + ${offset})`;
  try {
    const db = store.database;
    const node = db.prepare(`INSERT INTO nodes (id, kind, capacity_bytes, used_bytes, chunk_count, cpu, token_hash, created_at, last_seen_at, draining)
      VALUES (?, 'disk', 1000000000000, 0, 0, 2, ?, ?, ?, 0)`);
    for (const id of NODE_IDS) node.run(id, 'e'.repeat(64), NOW, NOW);
    for (let lo = 0; lo < files; lo += BATCH) {
      const series = `(WITH RECURSIVE s(i) AS (SELECT ${lo} UNION ALL SELECT i + 1 FROM s WHERE i < ${Math.min(files, lo + BATCH) - 1}) SELECT i FROM s)`;
      db.transaction(() => {
        db.exec(`INSERT INTO chunks (hash, size) SELECT ${hash(0)}, 16384 FROM ${series} UNION ALL SELECT ${hash(MANIFEST_OFFSET)}, 400 FROM ${series}`);
        for (const offset of [0, MANIFEST_OFFSET]) {
          db.exec(`INSERT INTO replicas (hash, node_id)
            SELECT ${hash(offset)}, 'bench-' || (i % 4 + 1) FROM ${series} UNION ALL SELECT ${hash(offset)}, 'bench-' || ((i + 1) % 4 + 1) FROM ${series}`);
        }
        db.exec(`INSERT INTO files (name, size, sha256, chunk_size, replicas, created_at, version, manifest)
          SELECT ${NAME_SQL.sqlite}, 16384, '${'0'.repeat(64)}', 4194304, 2, '${NOW}', i + 1, ${hash(MANIFEST_OFFSET)} FROM ${series}`);
        db.exec(`INSERT INTO file_chunks (file_name, idx, hash, size) SELECT ${NAME_SQL.sqlite}, 0, ${hash(0)}, 16384 FROM ${series}`);
      })();
    }
    db.exec('ANALYZE');
  } finally {
    await store.close();
  }
}
