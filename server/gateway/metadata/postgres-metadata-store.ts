import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ShoalError } from '../../../shared/errors.ts';
import { pageFiles, type NameRange } from './file-page.ts';
import { readChunkPage, type ChunkReads, type PagedChunk } from './chunk-page.ts';
import { countPerNode, countReplication, CopyCounts, type CountQueries, type LiveCounts, type NodeCopiesRow } from './copy-counts.ts';
import { copiesElsewhere, IS_MANIFEST, toFileChunks, toInvite, toNode, type InviteRow, type NodeRow } from './metadata-rows.ts';
import type {
  ChunkPage,
  ChunkPageQuery,
  ChunkRecord,
  DeletionRecord,
  FilePage,
  FilePageQuery,
  FileRecord,
  InviteRecord,
  ManifestRecord,
  MetadataStore,
  NodeCopies,
  NodeRecord,
  NodeSession,
  RecordedChunk,
  ReplicationSummary,
} from './metadata-store.ts';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';
import { assertAboveStored } from './name-version.ts';

/** The schema version this code writes; a newer database is refused rather than misread. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** Any constant: the advisory lock under which gateways starting together migrate the schema one at a time. */
const MIGRATION_LOCK = 0x5_ed0a1;

const RECOVERY_NEEDED = 'recovery_needed';

/** SQLSTATEs after which a transaction is run again: serialization failure, deadlock. */
const RETRY_CODES = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 20;
/** The longest pause before a transaction that lost a race runs again. */
const RETRY_CAP_MS = 200;

/** int8 (sizes, versions, counts) as numbers: every one Shoal keeps is far below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A file row with its chunks gathered, in order: one query per listing. */
const SELECT_FILE = `
SELECT name, size, sha256, chunk_size, replicas, created_at,
  (SELECT coalesce(json_agg(json_build_array(c.hash, c.size, c.key) ORDER BY c.idx), '[]') FROM file_chunks c WHERE c.file_name = files.name) AS chunks
FROM files`;

/** Whether some file or deletion references the hash $h now, as a chunk or as its manifest. */
const REFERENCED = (h: string) => `(EXISTS (SELECT 1 FROM file_chunks WHERE hash = ${h})
  OR EXISTS (SELECT 1 FROM files WHERE manifest = ${h}) OR EXISTS (SELECT 1 FROM tombstones WHERE manifest = ${h}))`;

const CHUNK_COLUMNS = `chunks.hash, chunks.size, chunks.copies,
  (SELECT coalesce(array_agg(node_id ORDER BY node_id), '{}') FROM replicas WHERE replicas.hash = chunks.hash) AS node_ids,
  CASE WHEN ${IS_MANIFEST} THEN 'manifest' ELSE 'chunk' END AS kind`;

const SELECT_CHUNK = `SELECT ${CHUNK_COLUMNS} FROM chunks`;

/** The per-node counts, their slots added up. */
const NODE_COPIES = 'SELECT node_id, copies, sum(chunks)::int8 AS chunks FROM node_copies GROUP BY node_id, copies HAVING sum(chunks) <> 0';

const NAME_REFERENCES = `
SELECT hash FROM file_chunks WHERE file_name = $1
UNION SELECT manifest FROM files WHERE name = $1 AND manifest IS NOT NULL
UNION SELECT manifest FROM tombstones WHERE name = $1`;

const NODE_COLUMNS = 'id, kind, capacity_bytes, used_bytes, chunk_count, cpu, token_hash, created_at, last_seen_at, draining, quarantine';
const INSERT_NODE = `INSERT INTO nodes (${NODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

type Queryable = Pick<pg.PoolClient, 'query'>;

interface FileRow {
  name: string;
  size: number;
  sha256: string | null;
  chunk_size: number;
  replicas: number;
  created_at: string;
  chunks: Array<[string, number, string | null]>;
}

interface ChunkRow {
  hash: string;
  size: number;
  copies: number;
  node_ids: string[];
  kind: RecordedChunk['kind'];
}

/**
 * The metadata in PostgreSQL (15 or newer), which several gateways can share. Every change runs
 * as one SERIALIZABLE transaction, retried when PostgreSQL finds it raced another: together they
 * behave as if run one after the other, as SQLite's single writer does, so no check (is a hash
 * still referenced? is an invite still valid?) can be outdated by the time its write commits.
 */
export class PostgresMetadataStore implements MetadataStore {
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /**
   * Connects to `url` (postgres://user@host:port/db) and brings its schema to this release's;
   * `created` says the schema was made just now, in an empty database.
   */
  static async open(url: string): Promise<{ store: PostgresMetadataStore; created: boolean }> {
    // JIT compiling pays off for long analytic queries, never for these: it only adds its own time.
    // The counts of a cluster with nodes away group their copies by chunk: in memory, not on disk.
    const pool = new pg.Pool({ connectionString: url, types: TYPES, max: 10, options: '-c jit=off -c work_mem=64MB' });
    // An idle client whose server went away emits here; the next query fails and says so instead.
    pool.on('error', () => {});
    try {
      const created = await migrate(pool);
      return { store: new PostgresMetadataStore(pool), created };
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  /** The pool, for the stores of other tables that share this database and its migrations. */
  get pool(): pg.Pool {
    return this.#pool;
  }

  /**
   * Checked first in every write transaction, when several gateways share the database: this
   * gateway writes only while its chunk claims stand (lease/postgres-chunk-claims.ts).
   */
  fence: ((db: Queryable) => Promise<void>) | null = null;

  /** Runs `work` in one SERIALIZABLE transaction, again from the start when it lost a race. */
  async transaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    const fence = this.fence;
    return serializable(this.#pool, fence ? async (db) => (await fence(db), work(db)) : work);
  }

  /** One statement as its own transaction, retried like any; the number of rows it changed. */
  async write(sql: string, params: unknown[]): Promise<number> {
    return this.transaction(async (db) => (await db.query(sql, params)).rowCount ?? 0);
  }

  async commitFile(file: FileRecord, chunks: ChunkRecord[], manifest?: ManifestRecord): Promise<{ unreferenced: string[] }> {
    return this.transaction(async (db) => ({ unreferenced: await unreferenced(db, await commit(db, file, chunks, manifest)) }));
  }

  async commitFiles(files: Array<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }>): Promise<{ unreferenced: string[] }> {
    return this.transaction(async (db) => {
      const previous = new Set<string>();
      for (const { file, chunks, manifest } of files) for (const hash of await commit(db, file, chunks, manifest)) previous.add(hash);
      return { unreferenced: await unreferenced(db, [...previous]) };
    });
  }

  async getFile(name: string): Promise<FileRecord | undefined> {
    const { rows } = await this.#pool.query<FileRow>(`${SELECT_FILE} WHERE name = $1`, [name]);
    return rows[0] && toFile(rows[0]);
  }

  async listFiles(): Promise<FileRecord[]> {
    return (await this.#pool.query<FileRow>(`${SELECT_FILE} ORDER BY name`)).rows.map(toFile);
  }

  async listFilePage(query: FilePageQuery): Promise<FilePage> {
    return pageFiles(query, (range) => this.#names(range), async (names) => {
      const { rows } = await this.#pool.query<FileRow>(`${SELECT_FILE} WHERE name = ANY($1) ORDER BY name`, [names]);
      return rows.map(toFile);
    });
  }

  async #names(range: NameRange): Promise<string[]> {
    const params: unknown[] = [range.from, range.limit];
    let where = `name ${range.inclusive ? '>=' : '>'} $1`;
    if (range.below !== undefined) {
      params.push(range.below);
      where += ` AND name < $3`;
    }
    const { rows } = await this.#pool.query<{ name: string }>(`SELECT name FROM files WHERE ${where} ORDER BY name LIMIT $2`, params);
    return rows.map((row) => row.name);
  }

  async largestChunkSize(): Promise<number> {
    return (await this.#pool.query<{ n: number }>('SELECT coalesce(max(chunk_size), 0)::int8 AS n FROM files')).rows[0]!.n;
  }

  async deleteFile(name: string, deletion?: DeletionRecord): Promise<{ file: FileRecord; unreferenced: string[] } | undefined> {
    return this.transaction(async (db) => {
      assertAboveStored(name, deletion?.version, await nameVersion(db, name));
      const row = (await db.query<FileRow>(`${SELECT_FILE} WHERE name = $1`, [name])).rows[0];
      const previous = await nameReferences(db, name);
      await db.query('DELETE FROM files WHERE name = $1', [name]);
      if (deletion) {
        await insertChunks(db, [deletion.chunk]);
        await db.query('DELETE FROM tombstones WHERE name = $1', [name]);
        await db.query('INSERT INTO tombstones (name, version, manifest, deleted_at) VALUES ($1, $2, $3, $4)', [
          name,
          deletion.version,
          deletion.chunk.hash,
          deletion.deletedAt,
        ]);
      }
      return row && { file: toFile(row), unreferenced: await unreferenced(db, previous) };
    });
  }

  async versions(): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ name: string; version: number }>('SELECT name, version FROM files UNION ALL SELECT name, version FROM tombstones');
    return new Map(rows.map((row) => [row.name, row.version]));
  }

  async nameVersion(name: string): Promise<number> {
    return nameVersion(this.#pool, name);
  }

  async largestVersion(): Promise<number> {
    const { rows } = await this.#pool.query<{ v: number }>(
      'SELECT greatest(coalesce((SELECT max(version) FROM files), 0), coalesce((SELECT max(version) FROM tombstones), 0))::int8 AS v',
    );
    return rows[0]!.v;
  }

  async filesWithoutManifest(): Promise<FileRecord[]> {
    return (await this.#pool.query<FileRow>(`${SELECT_FILE} WHERE manifest IS NULL ORDER BY name`)).rows.map(toFile);
  }

  async forgetDeletions(before: string): Promise<string[]> {
    return this.transaction(async (db) => {
      const { rows } = await db.query<{ manifest: string }>('DELETE FROM tombstones WHERE deleted_at < $1 RETURNING manifest', [before]);
      return unreferenced(db, rows.map((row) => row.manifest));
    });
  }

  async getChunks(hashes: string[]): Promise<Map<string, RecordedChunk>> {
    const { rows } = await this.#pool.query<ChunkRow>(`${SELECT_CHUNK} WHERE hash = ANY($1)`, [hashes]);
    return new Map(rows.map((row) => [row.hash, toChunk(row)]));
  }

  async referenced(hashes: string[]): Promise<Set<string>> {
    const { rows } = await this.#pool.query<{ h: string }>(
      `SELECT h FROM unnest($1::text[]) WITH ORDINALITY AS t(h, i) WHERE ${REFERENCED('t.h')} ORDER BY i`,
      [hashes],
    );
    return new Set(rows.map((row) => row.h));
  }

  async listChunks(): Promise<RecordedChunk[]> {
    const { rows } = await this.#pool.query<ChunkRow>(`${SELECT_CHUNK} WHERE refs > 0 ORDER BY hash`);
    return rows.map(toChunk);
  }

  async replicationSummary(readable: string[], replicas: number): Promise<ReplicationSummary> {
    return countReplication(this.#counts, readable, replicas);
  }

  async copiesPerNode(writable: string[], replicas: number): Promise<Map<string, NodeCopies>> {
    return countPerNode(this.#counts, writable, replicas);
  }

  async holders(): Promise<string[]> {
    return new CopyCounts(await this.#counts.nodes()).holders;
  }

  async listChunkPage(query: ChunkPageQuery): Promise<ChunkPage> {
    return readChunkPage(this.#chunkReads, query);
  }

  readonly #chunkReads: ChunkReads = {
    sameCopies: (copies, hash, limit) => this.#paged(`${SELECT_CHUNK} WHERE refs > 0 AND copies = $1 AND hash > $2 ORDER BY hash LIMIT $3`, [copies, hash, limit]),
    moreCopies: (copies, lo, hi, limit) =>
      this.#paged(`${SELECT_CHUNK} WHERE refs > 0 AND copies > $1 AND copies BETWEEN $2 AND $3 ORDER BY copies, hash LIMIT $4`, [copies, lo, hi, limit]),
    onNode: (node, hash, limit) =>
      this.#paged(
        `SELECT ${CHUNK_COLUMNS} FROM replicas r JOIN chunks ON chunks.hash = r.hash
         WHERE r.node_id = $1 AND r.hash > $2 AND chunks.hash > $2 AND chunks.refs > 0 ORDER BY r.hash LIMIT $3`,
        [node, hash, limit],
      ),
    all: (hash, limit) => this.#paged(`${SELECT_CHUNK} WHERE refs > 0 AND hash > $1 ORDER BY hash LIMIT $2`, [hash, limit]),
  };

  async #paged(sql: string, params: unknown[]): Promise<PagedChunk[]> {
    const { rows } = await this.#pool.query<ChunkRow>(sql, params);
    return rows.map((row) => ({ chunk: toChunk(row), copies: row.copies }));
  }

  readonly #counts: CountQueries = {
    nodes: async () => (await this.#pool.query<NodeCopiesRow>(NODE_COPIES)).rows,
    // One statement, one snapshot: the counts agree with each other.
    counts: async (replicas) => {
      const { rows } = await this.#pool.query<LiveCounts & { nodes: NodeCopiesRow[] | null }>(
        `SELECT (SELECT coalesce(sum(files), 0)::int8 FROM file_count) AS files,
           (SELECT count(*) FROM chunks WHERE refs > 0 AND copies < $1) AS short,
           (SELECT count(*) FROM chunks WHERE refs > 0 AND copies = 0) AS missing,
           (SELECT json_agg(n) FROM (${NODE_COPIES}) AS n) AS nodes`,
        [replicas],
      );
      const { nodes, ...live } = rows[0]!;
      return { ...live, nodes: nodes ?? [] };
    },
    scan: async (readable, replicas) => {
      const { rows } = await this.#pool.query<ReplicationSummary>(
        `WITH RECURSIVE ${copiesElsewhere('id <> ALL($1)')}
         SELECT (SELECT count(*) FROM files) AS files, live.n AS chunks,
           short.n + e.short AS "underReplicated", missing.n + e.missing AS unavailable
         FROM (SELECT count(*) AS n FROM chunks WHERE refs > 0) AS live,
           (SELECT count(*) AS n FROM chunks WHERE refs > 0 AND copies < $2) AS short,
           (SELECT count(*) AS n FROM chunks WHERE refs > 0 AND copies = 0) AS missing,
           (SELECT count(*) FILTER (WHERE c.copies >= $2 AND c.copies - e.n < $2) AS short, count(*) FILTER (WHERE c.copies > 0 AND c.copies = e.n) AS missing
            FROM elsewhere e JOIN chunks c USING (hash) WHERE c.refs > 0) AS e`,
        [readable, replicas],
      );
      return rows[0]!;
    },
    surplusAtRisk: async (writable, replicas) => {
      const { rows } = await this.#pool.query<{ node_id: string; chunks: number }>(
        `SELECT r.node_id, count(*) AS chunks FROM chunks c JOIN replicas r ON r.hash = c.hash
         WHERE c.refs > 0 AND c.copies > $2
           AND (SELECT count(*) FROM replicas o WHERE o.hash = c.hash AND o.node_id <> r.node_id AND o.node_id = ANY($1)) < $2
         GROUP BY r.node_id`,
        [writable, replicas],
      );
      return rows;
    },
  };

  async chunksOnNode(nodeId: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ hash: string }>('SELECT hash FROM replicas WHERE node_id = $1 ORDER BY hash', [nodeId]);
    return rows.map((row) => row.hash);
  }

  async addReplica(hash: string, nodeId: string): Promise<void> {
    await this.addReplicas([{ hash, nodeId }]);
  }

  /** A hash with no chunk row is ignored: no file needs it, so there is nothing to record it for. */
  async addReplicas(copies: Array<{ hash: string; nodeId: string }>): Promise<void> {
    await this.transaction((db) =>
      db.query(
        `INSERT INTO replicas (hash, node_id)
         SELECT t.h, t.n FROM unnest($1::text[], $2::text[]) AS t(h, n) WHERE EXISTS (SELECT 1 FROM chunks WHERE hash = t.h)
         ON CONFLICT (hash, node_id) DO NOTHING`,
        [copies.map((c) => c.hash), copies.map((c) => c.nodeId)],
      ),
    );
  }

  async removeReplica(hash: string, nodeId: string): Promise<void> {
    await this.reconcileNode(nodeId, [hash]);
  }

  async forgetUnreferenced(hashes: string[]): Promise<string[]> {
    return this.transaction(async (db) => {
      const { rows } = await db.query<{ hash: string }>(
        `DELETE FROM chunks WHERE hash = ANY($1) AND NOT ${REFERENCED('chunks.hash')} RETURNING hash`,
        [[...new Set(hashes)]],
      );
      return rows.map((row) => row.hash);
    });
  }

  async reconcileNode(nodeId: string, missing: string[]): Promise<void> {
    await this.transaction((db) => db.query('DELETE FROM replicas WHERE node_id = $1 AND hash = ANY($2)', [nodeId, missing]));
  }

  async upsertNode(node: NodeRecord): Promise<void> {
    await this.transaction((db) =>
      db.query(
        `${INSERT_NODE} ON CONFLICT (id) DO UPDATE SET
           kind = excluded.kind, capacity_bytes = excluded.capacity_bytes, used_bytes = excluded.used_bytes,
           chunk_count = excluded.chunk_count, cpu = excluded.cpu, token_hash = excluded.token_hash,
           created_at = excluded.created_at, last_seen_at = excluded.last_seen_at, draining = excluded.draining,
           quarantine = excluded.quarantine`,
        nodeParams(node),
      ),
    );
  }

  async setDraining(id: string, draining: boolean): Promise<boolean> {
    const { rowCount } = await this.transaction((db) => db.query('UPDATE nodes SET draining = $2 WHERE id = $1', [id, draining]));
    return (rowCount ?? 0) > 0;
  }

  async setQuarantine(id: string, reason: string | null): Promise<boolean> {
    const { rowCount } = await this.transaction((db) => db.query('UPDATE nodes SET quarantine = $2 WHERE id = $1', [id, reason]));
    return (rowCount ?? 0) > 0;
  }

  async recordSession(id: string, session: NodeSession): Promise<boolean> {
    const { rowCount } = await this.transaction((db) =>
      db.query(
        'UPDATE nodes SET kind = $2, capacity_bytes = $3, used_bytes = $4, chunk_count = $5, cpu = $6, last_seen_at = $7 WHERE id = $1',
        [id, session.kind, session.capacityBytes, session.usedBytes, session.chunkCount, session.cpu, session.lastSeenAt],
      ),
    );
    return (rowCount ?? 0) > 0;
  }

  async enrollNode(node: NodeRecord): Promise<boolean> {
    const { rowCount } = await this.transaction((db) => db.query(`${INSERT_NODE} ON CONFLICT (id) DO NOTHING`, nodeParams(node)));
    return (rowCount ?? 0) > 0;
  }

  async enrollWithInvite(tokenHash: string, node: NodeRecord, now: string): Promise<'enrolled' | 'invalid' | 'taken'> {
    return this.transaction(async (db) => {
      if ((await db.query('SELECT 1 FROM nodes WHERE id = $1', [node.id])).rowCount) return 'taken';
      const used = await db.query(
        `UPDATE invites SET uses = uses + 1
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) AND (max_uses IS NULL OR uses < max_uses)`,
        [tokenHash, now],
      );
      if (!used.rowCount) return 'invalid';
      await db.query(INSERT_NODE, nodeParams(node));
      return 'enrolled';
    });
  }

  async getNode(id: string): Promise<NodeRecord | undefined> {
    const { rows } = await this.#pool.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM nodes WHERE id = $1`, [id]);
    return rows[0] && toNode(rows[0]);
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.#pool.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM nodes ORDER BY id`)).rows.map(toNode);
  }

  async removeNode(id: string): Promise<void> {
    await this.transaction(async (db) => {
      await db.query('DELETE FROM replicas WHERE node_id = $1', [id]);
      // Its counts are all 0 once its copies are gone.
      await db.query('DELETE FROM node_copies WHERE node_id = $1', [id]);
      await db.query('DELETE FROM nodes WHERE id = $1', [id]);
    });
  }

  async recoveryNeeded(): Promise<string | null> {
    const { rows } = await this.#pool.query<{ value: string }>('SELECT value FROM gateway_state WHERE key = $1', [RECOVERY_NEEDED]);
    return rows[0]?.value ?? null;
  }

  async setRecoveryNeeded(reason: string | null): Promise<void> {
    await this.transaction((db) =>
      reason === null
        ? db.query('DELETE FROM gateway_state WHERE key = $1', [RECOVERY_NEEDED])
        : db.query('INSERT INTO gateway_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [RECOVERY_NEEDED, reason]),
    );
  }

  async createInvite(invite: InviteRecord): Promise<void> {
    await this.transaction((db) =>
      db.query(
        `INSERT INTO invites (id, token_hash, label, created_at, expires_at, max_uses, uses, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [invite.id, invite.tokenHash, invite.label, invite.createdAt, invite.expiresAt, invite.maxUses, invite.uses, invite.revokedAt],
      ),
    );
  }

  async listInvites(): Promise<InviteRecord[]> {
    const { rows } = await this.#pool.query<InviteRow>('SELECT * FROM invites ORDER BY created_at, id');
    return rows.map(toInvite);
  }

  async revokeInvite(id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.transaction((db) => db.query('UPDATE invites SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2', [at, id]));
    return (rowCount ?? 0) > 0;
  }

  /** Closing twice is harmless, as it is for SQLite. */
  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }
}

/** Runs `work` in one SERIALIZABLE transaction on a client of `pool`, again from the start when it lost a race. */
export async function serializable<T>(pool: pg.Pool, work: (db: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      if (!RETRY_CODES.has((err as { code?: string }).code ?? '')) throw err;
      if (attempt >= MAX_ATTEMPTS) {
        // Nothing was committed: the caller may say so plainly, and the client try again.
        throw new ShoalError('METADATA_BUSY', `the metadata database refused this change ${MAX_ATTEMPTS} times for concurrent ones: nothing was changed, try again`, {
          cause: err,
          headers: { 'Retry-After': '1' },
        });
      }
    } finally {
      client.release();
    }
    // Random and growing: writers that collided at once would otherwise collide again at once.
    await sleep(Math.random() * Math.min(RETRY_CAP_MS, 2 ** attempt));
  }
}

/** Applies the migrations this database lacks, one gateway at a time; true when it had no schema yet. */
async function migrate(pool: pg.Pool): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const found = (await client.query<{ version: number }>('SELECT version FROM schema_version')).rows[0];
    if (!found) await client.query('INSERT INTO schema_version (version) VALUES (0)');
    const version = found?.version ?? 0;
    if (version > POSTGRES_MIGRATIONS.length) {
      throw new ShoalError('CONFLICT', `the metadata has schema version ${version}, newer than this release's ${POSTGRES_MIGRATIONS.length}: run a newer Shoal`);
    }
    for (let next = version; next < POSTGRES_MIGRATIONS.length; next++) await client.query(POSTGRES_MIGRATIONS[next]!);
    await client.query('UPDATE schema_version SET version = $1', [POSTGRES_MIGRATIONS.length]);
    await client.query('COMMIT');
    return version === 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Records the file in place of whatever its name held; returns what the name referenced before. */
async function commit(db: Queryable, file: FileRecord, chunks: ChunkRecord[], manifest: ManifestRecord | undefined): Promise<string[]> {
  assertAboveStored(file.name, manifest?.version, await nameVersion(db, file.name));
  const previous = await nameReferences(db, file.name);
  await insertChunks(db, manifest ? [...chunks, manifest.chunk] : chunks);
  await db.query('DELETE FROM files WHERE name = $1', [file.name]);
  await db.query('DELETE FROM tombstones WHERE name = $1', [file.name]);
  await db.query(
    `INSERT INTO files (name, size, sha256, chunk_size, replicas, created_at, version, manifest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [file.name, file.size, file.sha256, file.chunkSize, file.replicas, file.createdAt, manifest?.version ?? 0, manifest?.chunk.hash ?? null],
  );
  await db.query(
    `INSERT INTO file_chunks (file_name, idx, hash, size, key)
     SELECT $1, t.i - 1, t.h, t.s, t.k FROM unnest($2::text[], $3::int8[], $4::text[]) WITH ORDINALITY AS t(h, s, k, i)`,
    [file.name, file.chunks.map((c) => c.hash), file.chunks.map((c) => c.size), file.chunks.map((c) => c.key ?? null)],
  );
  return previous;
}

async function nameReferences(db: Queryable, name: string): Promise<string[]> {
  return (await db.query<{ hash: string }>(NAME_REFERENCES, [name])).rows.map((row) => row.hash);
}

/** The hashes, in order, that no file or deletion references now. */
async function unreferenced(db: Queryable, hashes: string[]): Promise<string[]> {
  const { rows } = await db.query<{ h: string }>(
    `SELECT h FROM unnest($1::text[]) WITH ORDINALITY AS t(h, i) WHERE NOT ${REFERENCED('t.h')} ORDER BY i`,
    [hashes],
  );
  return rows.map((row) => row.h);
}

async function insertChunks(db: Queryable, chunks: ChunkRecord[]): Promise<void> {
  await db.query('INSERT INTO chunks (hash, size) SELECT * FROM unnest($1::text[], $2::int8[]) ON CONFLICT (hash) DO NOTHING', [
    chunks.map((c) => c.hash),
    chunks.map((c) => c.size),
  ]);
  const copies = chunks.flatMap((c) => c.nodeIds.map((nodeId) => [c.hash, nodeId] as const));
  await db.query('INSERT INTO replicas (hash, node_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (hash, node_id) DO NOTHING', [
    copies.map(([hash]) => hash),
    copies.map(([, nodeId]) => nodeId),
  ]);
}

function toFile(row: FileRow): FileRecord {
  return {
    name: row.name,
    size: row.size,
    sha256: row.sha256,
    chunkSize: row.chunk_size,
    chunks: toFileChunks(row.chunks),
    replicas: row.replicas,
    createdAt: row.created_at,
  };
}

function toChunk(row: ChunkRow): RecordedChunk {
  return { hash: row.hash, size: row.size, nodeIds: row.node_ids, kind: row.kind };
}

function nodeParams(node: NodeRecord): unknown[] {
  return [
    node.id,
    node.kind,
    node.capacityBytes,
    node.usedBytes,
    node.chunkCount,
    node.cpu,
    node.tokenHash,
    node.createdAt,
    node.lastSeenAt,
    node.draining,
    node.quarantine,
  ];
}

/** The version of `name`'s file or deletion, 0 when there is none. */
async function nameVersion(db: Queryable, name: string): Promise<number> {
  const { rows } = await db.query<{ v: number }>(
    'SELECT coalesce(max(version), 0)::int8 AS v FROM (SELECT version FROM files WHERE name = $1 UNION ALL SELECT version FROM tombstones WHERE name = $1) AS t',
    [name],
  );
  return rows[0]!.v;
}
