import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { ShoalError } from '../../../shared/errors.ts';
import { GroupCommit, type Outcome } from './group-commit.ts';
import { WalSync } from './wal-sync.ts';
import { BACKSTOP_PAGES, WalCheckpointer } from './wal-checkpointer.ts';
import { assertAboveStored } from './name-version.ts';
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

/**
 * The schema as a list of migrations; PRAGMA user_version counts those applied, so a data directory
 * written by any earlier release is brought forward in order, each step in one transaction. The
 * first release created its tables without setting user_version: its step is written with
 * IF NOT EXISTS, so it is a no-op there and the base schema on a new directory.
 *
 * STRICT tables make a wrong type an error instead of a silently stored string. Chunk rows are
 * shared by every file that uses the hash; a file's rows go with it (ON DELETE CASCADE), and so do a
 * chunk's replica rows. Replicas do not reference nodes: the nodes table describes nodes the gateway
 * has met, and a replica recorded for one it has not met yet is still worth knowing about. A file
 * and a deletion (tombstone) name their manifest, a chunk like the others; a name has one or the other.
 */
export const MIGRATIONS = [
  `
CREATE TABLE IF NOT EXISTS nodes (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('disk', 'browser')),
  capacity_bytes INTEGER NOT NULL,
  used_bytes INTEGER NOT NULL,
  chunk_count INTEGER NOT NULL,
  cpu REAL,
  token_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  draining INTEGER NOT NULL CHECK (draining IN (0, 1))
) STRICT;

CREATE TABLE IF NOT EXISTS files (
  name TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  chunk_size INTEGER NOT NULL,
  replicas INTEGER NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS chunks (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS file_chunks (
  file_name TEXT NOT NULL REFERENCES files (name) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  hash TEXT NOT NULL REFERENCES chunks (hash),
  PRIMARY KEY (file_name, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_chunks_by_hash ON file_chunks (hash);

CREATE TABLE IF NOT EXISTS replicas (
  hash TEXT NOT NULL REFERENCES chunks (hash) ON DELETE CASCADE,
  node_id TEXT NOT NULL,
  PRIMARY KEY (hash, node_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replicas_by_node ON replicas (node_id);
`,
  // 2: a node may be quarantined with a reason; invites let browser tabs join.
  `
ALTER TABLE nodes ADD COLUMN quarantine TEXT;

CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  max_uses INTEGER,
  uses INTEGER NOT NULL,
  revoked_at TEXT
) STRICT;
`,
  // 3: files and deletions name their manifest on the nodes and its version; a metadata that
  // replaced a lost one, or a backup, waits for recovery.
  `
ALTER TABLE files ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN manifest TEXT REFERENCES chunks (hash);
CREATE INDEX files_by_manifest ON files (manifest);

CREATE TABLE tombstones (
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  manifest TEXT NOT NULL REFERENCES chunks (hash),
  deleted_at TEXT NOT NULL
) STRICT;
CREATE INDEX tombstones_by_manifest ON tombstones (manifest);
CREATE INDEX tombstones_by_age ON tombstones (deleted_at);

CREATE TABLE gateway_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`,
  // API tokens with roles, and the browser sessions they open; only SHA-256 hashes of either are
  // kept. Queried by auth/sqlite-token-store.ts.
  `
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;

CREATE TABLE api_sessions (
  session_hash TEXT PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX api_sessions_by_expiry ON api_sessions (expires_at);
`,
  // Each chunk of a file carries its plaintext size, as files may be composed of chunks of
  // different sizes, and, when encrypted, the keyed hash its key derives from (NULL: plaintext).
  // A file's whole SHA-256 may be unknown (''), for one composed of parts.
  `
ALTER TABLE file_chunks ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE file_chunks ADD COLUMN key TEXT;
UPDATE file_chunks SET size = min(files.chunk_size, files.size - file_chunks.idx * files.chunk_size)
FROM files WHERE files.name = file_chunks.file_name;
`,
  // The S3 API's tables (queried by s3/sqlite-s3-store.ts): buckets; each object's ETag,
  // Content-Type and user metadata for the file version created at created_at; access keys with
  // their secrets sealed by a key in the data directory; multipart uploads in progress. And the
  // parts of uploads in parts (S3 multipart; files/sqlite-part-store.ts): each part's chunks
  // (JSON FileChunk[]) and where their copies were written (JSON ChunkRecord[]) until committed.
  `
CREATE TABLE s3_buckets (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE s3_objects (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  etag TEXT NOT NULL,
  content_type TEXT,
  metadata TEXT NOT NULL
) STRICT;

CREATE TABLE s3_access_keys (
  id TEXT PRIMARY KEY,
  sealed_secret TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;

CREATE TABLE s3_multipart_uploads (
  id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  content_type TEXT,
  metadata TEXT NOT NULL
) STRICT;
CREATE INDEX s3_multipart_uploads_by_bucket ON s3_multipart_uploads (bucket, key);

CREATE TABLE upload_sessions (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE upload_parts (
  session_id TEXT NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  digest TEXT NOT NULL,
  chunks TEXT NOT NULL,
  records TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (session_id, number)
) STRICT;
`,
  // Each chunk counts what references it (refs: file_chunks rows, files and deletions naming it as
  // their manifest) and its replica rows (copies), kept by triggers in the transaction that changes
  // them, so that health counts live chunks and those short of copies from one small index
  // instead of reading every chunk (replicationSummary). Filled in here for what exists.
  `
ALTER TABLE chunks ADD COLUMN refs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN copies INTEGER NOT NULL DEFAULT 0;
UPDATE chunks SET
  copies = (SELECT count(*) FROM replicas WHERE replicas.hash = chunks.hash),
  refs = (SELECT count(*) FROM file_chunks WHERE file_chunks.hash = chunks.hash)
    + (SELECT count(*) FROM files WHERE files.manifest = chunks.hash)
    + (SELECT count(*) FROM tombstones WHERE tombstones.manifest = chunks.hash);

CREATE TRIGGER replicas_added AFTER INSERT ON replicas BEGIN UPDATE chunks SET copies = copies + 1 WHERE hash = NEW.hash; END;
CREATE TRIGGER replicas_removed AFTER DELETE ON replicas BEGIN UPDATE chunks SET copies = copies - 1 WHERE hash = OLD.hash; END;
CREATE TRIGGER file_chunks_added AFTER INSERT ON file_chunks BEGIN UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.hash; END;
CREATE TRIGGER file_chunks_removed AFTER DELETE ON file_chunks BEGIN UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.hash; END;
CREATE TRIGGER files_manifest_added AFTER INSERT ON files BEGIN UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.manifest; END;
CREATE TRIGGER files_manifest_removed AFTER DELETE ON files BEGIN UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.manifest; END;
CREATE TRIGGER files_manifest_changed AFTER UPDATE OF manifest ON files BEGIN
  UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.manifest;
  UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.manifest;
END;
CREATE TRIGGER tombstones_added AFTER INSERT ON tombstones BEGIN UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.manifest; END;
CREATE TRIGGER tombstones_removed AFTER DELETE ON tombstones BEGIN UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.manifest; END;
CREATE TRIGGER tombstones_manifest_changed AFTER UPDATE OF manifest ON tombstones BEGIN
  UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.manifest;
  UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.manifest;
END;

CREATE INDEX chunks_live_by_copies ON chunks (copies) WHERE refs > 0;
`,
  // Resumable (tus) uploads keep their sessions here, so a gateway restart loses none
  // (files/resumable-uploads.ts): the file's name and length, and when the session expires if idle
  // (null for S3's, which expire by age).
  `
ALTER TABLE upload_sessions ADD COLUMN name TEXT;
ALTER TABLE upload_sessions ADD COLUMN length INTEGER;
ALTER TABLE upload_sessions ADD COLUMN expires_at TEXT;
`,
  // The gateways serving this metadata (cluster/sqlite-gateway-directory.ts): only one can use a
  // SQLite file, but /api/gateways answers alike on both stores.
  `
CREATE TABLE gateways (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  started_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  stopped INTEGER NOT NULL DEFAULT 0,
  instance TEXT NOT NULL
);
`,
  // Per-node counts of the live chunks each node holds, by the chunk's number of copies, kept by
  // the triggers that keep chunks.copies and by a chunk's becoming live or dead: health and the
  // nodes page answer from them with a node offline instead of reading its copies (copy-counts.ts).
  // And the number of files, which health shows, counted as they come and go rather than each time.
  `
CREATE TABLE node_copies (
  node_id TEXT NOT NULL,
  copies INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  PRIMARY KEY (node_id, copies)
) STRICT, WITHOUT ROWID;
INSERT INTO node_copies (node_id, copies, chunks)
  SELECT r.node_id, c.copies, count(*) FROM replicas r JOIN chunks c ON c.hash = r.hash WHERE c.refs > 0 GROUP BY r.node_id, c.copies;

DROP TRIGGER replicas_added;
DROP TRIGGER replicas_removed;
CREATE TRIGGER replicas_added AFTER INSERT ON replicas BEGIN
  INSERT INTO node_copies (node_id, copies, chunks)
    SELECT node_id, copies, sum(delta) FROM (
      SELECT r.node_id, c.copies, -1 AS delta FROM replicas r, chunks c
        WHERE r.hash = NEW.hash AND c.hash = NEW.hash AND c.refs > 0 AND r.node_id <> NEW.node_id
      UNION ALL SELECT r.node_id, c.copies + 1, 1 FROM replicas r, chunks c WHERE r.hash = NEW.hash AND c.hash = NEW.hash AND c.refs > 0
    ) GROUP BY node_id, copies
    ON CONFLICT (node_id, copies) DO UPDATE SET chunks = chunks + excluded.chunks;
  UPDATE chunks SET copies = copies + 1 WHERE hash = NEW.hash;
END;
CREATE TRIGGER replicas_removed AFTER DELETE ON replicas BEGIN
  INSERT INTO node_copies (node_id, copies, chunks)
    SELECT node_id, copies, sum(delta) FROM (
      SELECT r.node_id, c.copies, -1 AS delta FROM replicas r, chunks c WHERE r.hash = OLD.hash AND c.hash = OLD.hash AND c.refs > 0
      UNION ALL SELECT OLD.node_id, c.copies, -1 FROM chunks c WHERE c.hash = OLD.hash AND c.refs > 0
      UNION ALL SELECT r.node_id, c.copies - 1, 1 FROM replicas r, chunks c WHERE r.hash = OLD.hash AND c.hash = OLD.hash AND c.refs > 0
    ) GROUP BY node_id, copies
    ON CONFLICT (node_id, copies) DO UPDATE SET chunks = chunks + excluded.chunks;
  UPDATE chunks SET copies = copies - 1 WHERE hash = OLD.hash;
END;
CREATE TRIGGER chunks_liveness AFTER UPDATE OF refs ON chunks WHEN (OLD.refs > 0) <> (NEW.refs > 0) BEGIN
  INSERT INTO node_copies (node_id, copies, chunks)
    SELECT node_id, NEW.copies, iif(NEW.refs > 0, 1, -1) FROM replicas WHERE hash = NEW.hash
    ON CONFLICT (node_id, copies) DO UPDATE SET chunks = chunks + excluded.chunks;
END;

CREATE TABLE file_count (id INTEGER PRIMARY KEY CHECK (id = 0), files INTEGER NOT NULL) STRICT;
INSERT INTO file_count (id, files) SELECT 0, count(*) FROM files;
CREATE TRIGGER files_counted AFTER INSERT ON files BEGIN UPDATE file_count SET files = files + 1; END;
CREATE TRIGGER files_uncounted AFTER DELETE ON files BEGIN UPDATE file_count SET files = files - 1; END;
`,
  // Leases (lease/sqlite-lease-store.ts): the repair lease, which the one gateway of a SQLite file always holds.
  `
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
`,
  // Which gateway hears which node, and when it last did (nodes/node-presence.ts): a node is
  // offline only when no gateway has heard it lately.
  `
CREATE TABLE node_presence (
  node_id TEXT NOT NULL,
  gateway_id TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  PRIMARY KEY (node_id, gateway_id)
) STRICT, WITHOUT ROWID;
`,
];

/** The schema version this code writes; a newer data directory is refused rather than misread. */
export const METADATA_SCHEMA_VERSION = MIGRATIONS.length;

/** The sha256 column of a file whose whole digest is unknown; the column predates such files and is NOT NULL. */
const UNKNOWN_SHA256 = '';

/** The gateway_state key of why the metadata waits for `shoal recover`. */
const RECOVERY_NEEDED = 'recovery_needed';

const INSERT_NODE = `INSERT INTO nodes (id, kind, capacity_bytes, used_bytes, chunk_count, cpu, token_hash, created_at, last_seen_at, draining, quarantine)
  VALUES (@id, @kind, @capacity_bytes, @used_bytes, @chunk_count, @cpu, @token_hash, @created_at, @last_seen_at, @draining, @quarantine)`;

/** A file row with its chunks gathered, in order, into one JSON column of [hash, size, key]: one query per listing. */
const SELECT_FILE = `
SELECT name, size, sha256, chunk_size, replicas, created_at,
  (SELECT json_group_array(json_array(file_chunks.hash, file_chunks.size, file_chunks.key) ORDER BY idx) FROM file_chunks WHERE file_name = files.name) AS chunks
FROM files`;

const CHUNK_COLUMNS = `chunks.hash, chunks.size, chunks.copies,
  (SELECT json_group_array(node_id ORDER BY node_id) FROM replicas WHERE replicas.hash = chunks.hash) AS node_ids,
  CASE WHEN ${IS_MANIFEST} THEN 'manifest' ELSE 'chunk' END AS kind`;

const SELECT_CHUNK = `SELECT ${CHUNK_COLUMNS} FROM chunks`;

/** listChunkPage's reads (chunk-page.ts): each a range of an index, in the order its cursor follows. */
const CHUNK_PAGES = {
  sameCopies: `${SELECT_CHUNK} WHERE refs > 0 AND copies = @copies AND hash > @hash ORDER BY hash LIMIT @limit`,
  moreCopies: `${SELECT_CHUNK} WHERE refs > 0 AND copies > @copies AND copies BETWEEN @lo AND @hi ORDER BY copies, hash LIMIT @limit`,
  onNode: `SELECT ${CHUNK_COLUMNS} FROM replicas r JOIN chunks ON chunks.hash = r.hash
    WHERE r.node_id = @node AND r.hash > @hash AND chunks.hash > @hash AND chunks.refs > 0 ORDER BY r.hash LIMIT @limit`,
  all: `${SELECT_CHUNK} WHERE refs > 0 AND hash > @hash ORDER BY hash LIMIT @limit`,
};

/** What the name `@name` refers to now: its file's chunks and manifest, or its deletion's manifest. */
const NAME_REFERENCES = `
SELECT hash FROM file_chunks WHERE file_name = @name
UNION SELECT manifest FROM files WHERE name = @name AND manifest IS NOT NULL
UNION SELECT manifest FROM tombstones WHERE name = @name`;

interface FileRow {
  name: string;
  size: number;
  sha256: string;
  chunk_size: number;
  replicas: number;
  created_at: string;
  chunks: string;
}

interface ChunkRow {
  hash: string;
  size: number;
  copies: number;
  node_ids: string;
  kind: RecordedChunk['kind'];
}

/** What sqlite3_backup_step takes as "every page left" (better-sqlite3 caps a step at this). */
const ALL_PAGES = 0x7fffffff;

/** The embedded metadata store: one SQLite file in WAL mode, written by one gateway process. */
export class SqliteMetadataStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #sql;
  readonly #nameRanges = new Map<string, Database.Statement<{ from: string; below?: string; limit: number }, string>>();
  readonly #commitFile;
  readonly #commitFiles;
  /** Concurrent commitFile calls, one transaction per batch: each is a savepoint in it, failing alone. */
  readonly #walSync: WalSync | null;
  readonly #checkpointer: WalCheckpointer | null;
  readonly #fileCommits: GroupCommit<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }, string[]>;
  readonly #addReplicas;
  readonly #deleteFile;
  readonly #forgetDeletions;
  readonly #forgetUnreferenced;
  readonly #removeNode;
  readonly #reconcileNode;
  readonly #enrollWithInvite;

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = {
      getFile: db.prepare<[string], FileRow>(`${SELECT_FILE} WHERE name = ?`),
      listFiles: db.prepare<[], FileRow>(`${SELECT_FILE} ORDER BY name`),
      filesNamed: db.prepare<[string], FileRow>(`${SELECT_FILE} WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name`),
      scanReplication: db.prepare<{ readable: string; replicas: number }, ReplicationSummary>(
        `WITH RECURSIVE ${copiesElsewhere('id NOT IN (SELECT value FROM json_each(@readable))')}
         SELECT (SELECT count(*) FROM files) AS files, live.n AS chunks,
           short.n + e.short AS underReplicated, missing.n + e.missing AS unavailable
         FROM (SELECT count(*) AS n FROM chunks WHERE refs > 0) AS live,
           (SELECT count(*) AS n FROM chunks WHERE refs > 0 AND copies < @replicas) AS short,
           (SELECT count(*) AS n FROM chunks WHERE refs > 0 AND copies = 0) AS missing,
           (SELECT coalesce(sum(c.copies >= @replicas AND c.copies - e.n < @replicas), 0) AS short, coalesce(sum(c.copies > 0 AND c.copies = e.n), 0) AS missing
            FROM elsewhere e JOIN chunks c USING (hash) WHERE c.refs > 0) AS e`,
      ),
      nodeCopies: db.prepare<[], NodeCopiesRow>('SELECT node_id, copies, chunks FROM node_copies WHERE chunks <> 0'),
      liveCounts: db.prepare<{ replicas: number }, LiveCounts>(
        `SELECT (SELECT files FROM file_count) AS files,
           (SELECT count(*) FROM chunks WHERE refs > 0 AND copies < @replicas) AS short,
           (SELECT count(*) FROM chunks WHERE refs > 0 AND copies = 0) AS missing`,
      ),
      surplusAtRisk: db.prepare<{ writable: string; replicas: number }, { node_id: string; chunks: number }>(
        // CROSS JOIN keeps SQLite reading the few chunks with surplus copies first, not every copy.
        `SELECT r.node_id, count(*) AS chunks FROM chunks c CROSS JOIN replicas r
         WHERE r.hash = c.hash AND c.refs > 0 AND c.copies > @replicas
           AND (SELECT count(*) FROM replicas o WHERE o.hash = c.hash AND o.node_id <> r.node_id
                AND o.node_id IN (SELECT value FROM json_each(@writable))) < @replicas
         GROUP BY r.node_id`,
      ),
      chunkPages: {
        sameCopies: db.prepare<{ copies: number; hash: string; limit: number }, ChunkRow>(CHUNK_PAGES.sameCopies),
        moreCopies: db.prepare<{ copies: number; lo: number; hi: number; limit: number }, ChunkRow>(CHUNK_PAGES.moreCopies),
        onNode: db.prepare<{ node: string; hash: string; limit: number }, ChunkRow>(CHUNK_PAGES.onNode),
        all: db.prepare<{ hash: string; limit: number }, ChunkRow>(CHUNK_PAGES.all),
      },
      largestChunkSize: db.prepare<[], number>('SELECT coalesce(max(chunk_size), 0) FROM files').pluck(),
      nameReferences: db.prepare<{ name: string }, string>(NAME_REFERENCES).pluck(),
      insertFile: db.prepare<[Omit<FileRecord, 'chunks' | 'sha256'> & { sha256: string; version: number; manifest: string | null }]>(
        `INSERT INTO files (name, size, sha256, chunk_size, replicas, created_at, version, manifest)
         VALUES (@name, @size, @sha256, @chunkSize, @replicas, @createdAt, @version, @manifest)`,
      ),
      deleteFile: db.prepare<[string]>('DELETE FROM files WHERE name = ?'),
      insertFileChunk: db.prepare<[string, number, string, number, string | null]>('INSERT INTO file_chunks (file_name, idx, hash, size, key) VALUES (?, ?, ?, ?, ?)'),
      isReferenced: db.prepare<{ hash: string }, number>(
        `SELECT 1 FROM file_chunks WHERE hash = @hash
         UNION ALL SELECT 1 FROM files WHERE manifest = @hash
         UNION ALL SELECT 1 FROM tombstones WHERE manifest = @hash LIMIT 1`,
      ).pluck(),
      insertTombstone: db.prepare<[string, number, string, string]>('INSERT INTO tombstones (name, version, manifest, deleted_at) VALUES (?, ?, ?, ?)'),
      deleteTombstone: db.prepare<[string]>('DELETE FROM tombstones WHERE name = ?'),
      expireTombstones: db.prepare<[string], string>('DELETE FROM tombstones WHERE deleted_at < ? RETURNING manifest').pluck(),
      versions: db.prepare<[], { name: string; version: number }>('SELECT name, version FROM files UNION ALL SELECT name, version FROM tombstones'),
      nameVersion: db
        .prepare<[string, string], number>('SELECT coalesce(max(version), 0) FROM (SELECT version FROM files WHERE name = ? UNION ALL SELECT version FROM tombstones WHERE name = ?)')
        .pluck(),
      largestVersion: db
        .prepare<[], number>('SELECT max(coalesce((SELECT max(version) FROM files), 0), coalesce((SELECT max(version) FROM tombstones), 0))')
        .pluck(),
      filesWithoutManifest: db.prepare<[], FileRow>(`${SELECT_FILE} WHERE manifest IS NULL ORDER BY name`),
      getState: db.prepare<[string], string>('SELECT value FROM gateway_state WHERE key = ?').pluck(),
      setState: db.prepare<[string, string]>('INSERT INTO gateway_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      clearState: db.prepare<[string]>('DELETE FROM gateway_state WHERE key = ?'),

      getChunks: db.prepare<[string], ChunkRow>(`${SELECT_CHUNK} WHERE hash IN (SELECT value FROM json_each(?))`),
      // What every chunk an upload stores asks first (ReplicaStore.current): without json_each, in about half the time.
      getChunk: db.prepare<[string], ChunkRow>(`${SELECT_CHUNK} WHERE hash = ?`),
      listChunks: db.prepare<[], ChunkRow>(
        `${SELECT_CHUNK} WHERE refs > 0 ORDER BY hash`,
      ),
      insertChunk: db.prepare<[string, number]>('INSERT INTO chunks (hash, size) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING'),
      deleteChunk: db.prepare<[string]>('DELETE FROM chunks WHERE hash = ?'),
      chunksOnNode: db.prepare<[string], string>('SELECT hash FROM replicas WHERE node_id = ? ORDER BY hash').pluck(),
      // ON CONFLICT rather than INSERT OR IGNORE, which would also swallow a NOT NULL violation.
      insertReplica: db.prepare<[string, string]>(
        'INSERT INTO replicas (hash, node_id) VALUES (?, ?) ON CONFLICT (hash, node_id) DO NOTHING',
      ),
      addReplica: db.prepare<{ hash: string; nodeId: string }>(
        `INSERT INTO replicas (hash, node_id)
         SELECT @hash, @nodeId WHERE EXISTS (SELECT 1 FROM chunks WHERE hash = @hash)
         ON CONFLICT (hash, node_id) DO NOTHING`,
      ),
      removeReplica: db.prepare<[string, string]>('DELETE FROM replicas WHERE hash = ? AND node_id = ?'),

      upsertNode: db.prepare<[NodeRow]>(
        `${INSERT_NODE}
         ON CONFLICT (id) DO UPDATE SET
           kind = excluded.kind, capacity_bytes = excluded.capacity_bytes, used_bytes = excluded.used_bytes,
           chunk_count = excluded.chunk_count, cpu = excluded.cpu, token_hash = excluded.token_hash,
           created_at = excluded.created_at, last_seen_at = excluded.last_seen_at, draining = excluded.draining,
           quarantine = excluded.quarantine`,
      ),
      setDraining: db.prepare<[0 | 1, string]>('UPDATE nodes SET draining = ? WHERE id = ?'),
      setQuarantine: db.prepare<[string | null, string]>('UPDATE nodes SET quarantine = ? WHERE id = ?'),
      enrollNode: db.prepare<[NodeRow]>(`${INSERT_NODE} ON CONFLICT (id) DO NOTHING`),
      recordSession: db.prepare<{ id: string; kind: string; capacity: number; used: number; count: number; cpu: number | null; seen: string }>(
        `UPDATE nodes SET kind = @kind, capacity_bytes = @capacity, used_bytes = @used, chunk_count = @count, cpu = @cpu, last_seen_at = @seen
         WHERE id = @id`,
      ),
      insertInvite: db.prepare<[InviteRow]>(
        `INSERT INTO invites (id, token_hash, label, created_at, expires_at, max_uses, uses, revoked_at)
         VALUES (@id, @token_hash, @label, @created_at, @expires_at, @max_uses, @uses, @revoked_at)`,
      ),
      listInvites: db.prepare<[], InviteRow>('SELECT * FROM invites ORDER BY created_at, id'),
      useInvite: db.prepare<{ tokenHash: string; now: string }>(
        `UPDATE invites SET uses = uses + 1
         WHERE token_hash = @tokenHash AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > @now) AND (max_uses IS NULL OR uses < max_uses)`,
      ),
      revokeInvite: db.prepare<[string, string]>('UPDATE invites SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
      getNode: db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE id = ?'),
      listNodes: db.prepare<[], NodeRow>('SELECT * FROM nodes ORDER BY id'),
      deleteNode: db.prepare<[string]>('DELETE FROM nodes WHERE id = ?'),
      deleteNodeReplicas: db.prepare<[string]>('DELETE FROM replicas WHERE node_id = ?'),
      // Its counts are all 0 once its copies are gone.
      deleteNodeCopies: db.prepare<[string]>('DELETE FROM node_copies WHERE node_id = ?'),
    };

    const commitOne = (file: FileRecord, chunks: ChunkRecord[], manifest: ManifestRecord | undefined): string[] => {
      assertAboveStored(file.name, manifest?.version, this.#sql.nameVersion.get(file.name, file.name)!);
      const previous = this.#sql.nameReferences.all({ name: file.name });
      this.#insertChunks(manifest ? [...chunks, manifest.chunk] : chunks);
      this.#sql.deleteFile.run(file.name);
      this.#sql.deleteTombstone.run(file.name);
      const { chunks: fileChunks, ...row } = file;
      this.#sql.insertFile.run({ ...row, sha256: file.sha256 ?? UNKNOWN_SHA256, version: manifest?.version ?? 0, manifest: manifest?.chunk.hash ?? null });
      fileChunks.forEach((chunk, idx) => this.#sql.insertFileChunk.run(file.name, idx, chunk.hash, chunk.size, chunk.key ?? null));
      return this.#unreferenced(previous);
    };
    this.#commitFile = db.transaction(commitOne);

    // Nested in this one, each commit is a savepoint: the batch is one transaction, one fsync.
    this.#commitFiles = db.transaction((files: Array<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }>) =>
      this.#unreferenced([...new Set(files.flatMap(({ file, chunks, manifest }) => this.#commitFile(file, chunks, manifest)))]),
    );

    const commitEach = db.transaction((files: Array<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }>) =>
      files.map(({ file, chunks, manifest }): Outcome<string[]> => {
        try {
          return { ok: true, value: this.#commitFile(file, chunks, manifest) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    // A batch is first tried as one plain transaction, and only when one of its commits fails again
    // with each in a savepoint, to fail alone: a savepoint costs each commit a copy of every page
    // it changes in the statement journal, about a fifth of a small file's commit.
    const commitAll = db.transaction((files: Array<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }>) =>
      files.map(({ file, chunks, manifest }): Outcome<string[]> => ({ ok: true, value: commitOne(file, chunks, manifest) })),
    );
    // Each batch commits without waiting for the disk, then the WAL is fsynced off the event loop
    // before any commit of it resolves: as durable as FULL, one fsync per batch. Every other
    // transaction stays FULL.
    const wal = !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal';
    this.#walSync = wal ? new WalSync(db.name) : null;
    if (wal) db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.#checkpointer = wal ? new WalCheckpointer(db.name, () => db.open && db.pragma('wal_autocheckpoint = 1000')) : null;
    // Prepared once: db.pragma() compiles its statement on every call, twice a batch.
    const synchronous = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') };
    this.#fileCommits = new GroupCommit(
      (files) => {
        this.#checkpointer?.committed(files.length);
        synchronous.normal.run();
        try {
          try {
            return commitAll(files);
          } catch {
            return commitEach(files);
          }
        } finally {
          synchronous.full.run();
        }
      },
      async () => this.#walSync?.sync(),
    );

    this.#addReplicas = db.transaction((copies: Array<{ hash: string; nodeId: string }>) => {
      for (const copy of copies) this.#sql.addReplica.run(copy);
    });

    this.#deleteFile = db.transaction((name: string, deletion: DeletionRecord | undefined) => {
      assertAboveStored(name, deletion?.version, this.#sql.nameVersion.get(name, name)!);
      const row = this.#sql.getFile.get(name);
      const previous = this.#sql.nameReferences.all({ name });
      this.#sql.deleteFile.run(name);
      if (deletion) {
        this.#insertChunks([deletion.chunk]);
        this.#sql.deleteTombstone.run(name);
        this.#sql.insertTombstone.run(name, deletion.version, deletion.chunk.hash, deletion.deletedAt);
      }
      return row && { file: toFile(row), unreferenced: this.#unreferenced(previous) };
    });

    this.#forgetDeletions = db.transaction((before: string) => this.#unreferenced(this.#sql.expireTombstones.all(before)));

    this.#forgetUnreferenced = db.transaction((hashes: string[]) =>
      this.#unreferenced([...new Set(hashes)]).filter((hash) => this.#sql.deleteChunk.run(hash).changes > 0),
    );

    this.#reconcileNode = db.transaction((nodeId: string, missing: string[]) => {
      for (const hash of missing) this.#sql.removeReplica.run(hash, nodeId);
    });

    this.#enrollWithInvite = db.transaction((tokenHash: string, node: NodeRecord, now: string) => {
      if (this.#sql.getNode.get(node.id)) return 'taken';
      if (this.#sql.useInvite.run({ tokenHash, now }).changes === 0) return 'invalid';
      this.#sql.enrollNode.run(toNodeRow(node));
      return 'enrolled';
    });

    this.#removeNode = db.transaction((id: string) => {
      this.#sql.deleteNodeReplicas.run(id);
      this.#sql.deleteNodeCopies.run(id);
      this.#sql.deleteNode.run(id);
    });
  }

  /** Opens or creates the database at `path` (':memory:' for one that lives as long as the store). */
  static open(path: string): SqliteMetadataStore {
    ownerOnly(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // FULL fsyncs the WAL on every commit: a file acknowledged with 201 survives power loss, and at
    // one transaction per file the ~4k commits a second it allows are plenty.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return new SqliteMetadataStore(db);
  }

  /**
   * Copies the database at `source` to `target` with SQLite's online backup, which is consistent
   * while a gateway writes the source, and marks the copy: restored, it is served only once
   * `shoal recover` has brought in from the nodes what changed after it was taken.
   */
  static async backup(source: string, target: string): Promise<void> {
    let db: Database.Database;
    try {
      db = new Database(source, { fileMustExist: true });
    } catch (err) {
      throw new ShoalError('NOT_FOUND', `no metadata at ${source}: ${(err as Error).message}`, { cause: err });
    }
    try {
      // All pages in one step: a write by the running gateway between two steps would start the
      // copy over, and a gateway writing more often than a copy of many steps takes would keep it
      // from ever finishing.
      await db.backup(target, { progress: () => ALL_PAGES });
    } finally {
      db.close();
    }
    const copy = SqliteMetadataStore.open(target);
    try {
      await copy.setRecoveryNeeded(`it is a backup taken at ${new Date().toISOString()}`);
    } finally {
      await copy.close();
    }
  }

  async commitFile(file: FileRecord, chunks: ChunkRecord[], manifest?: ManifestRecord): Promise<{ unreferenced: string[] }> {
    return { unreferenced: await this.#fileCommits.submit({ file, chunks, manifest }) };
  }

  async getFile(name: string): Promise<FileRecord | undefined> {
    const row = this.#sql.getFile.get(name);
    return row && toFile(row);
  }

  async listFiles(): Promise<FileRecord[]> {
    return this.#sql.listFiles.all().map(toFile);
  }

  async listFilePage(query: FilePageQuery): Promise<FilePage> {
    return pageFiles(query, (range) => this.#names(range), async (names) => this.#sql.filesNamed.all(JSON.stringify(names)).map(toFile));
  }

  /** One statement per shape of range, prepared once: each is a range scan of the index on names. */
  async #names(range: NameRange): Promise<string[]> {
    const key = `${range.inclusive ? '>=' : '>'}${range.below === undefined ? '' : '<'}`;
    let statement = this.#nameRanges.get(key);
    if (!statement) {
      const below = range.below === undefined ? '' : ' AND name < @below';
      statement = this.#db.prepare<{ from: string; below?: string; limit: number }, string>(
        `SELECT name FROM files WHERE name ${range.inclusive ? '>=' : '>'} @from${below} ORDER BY name LIMIT @limit`,
      ).pluck();
      this.#nameRanges.set(key, statement);
    }
    const { from, below, limit } = range;
    return statement.all(below === undefined ? { from, limit } : { from, below, limit });
  }

  async replicationSummary(readable: string[], replicas: number): Promise<ReplicationSummary> {
    return countReplication(this.#counts, readable, replicas);
  }

  async copiesPerNode(writable: string[], replicas: number): Promise<Map<string, NodeCopies>> {
    return countPerNode(this.#counts, writable, replicas);
  }

  async holders(): Promise<string[]> {
    return new CopyCounts(this.#sql.nodeCopies.all()).holders;
  }

  /** Synchronous statements, so the counts read together are read in one go. */
  readonly #counts: CountQueries = {
    nodes: async () => this.#sql.nodeCopies.all(),
    counts: async (replicas) => ({ ...this.#sql.liveCounts.get({ replicas })!, nodes: this.#sql.nodeCopies.all() }),
    scan: async (readable, replicas) => this.#sql.scanReplication.get({ readable: JSON.stringify(readable), replicas })!,
    surplusAtRisk: async (writable, replicas) => this.#sql.surplusAtRisk.all({ writable: JSON.stringify(writable), replicas }),
  };

  async largestChunkSize(): Promise<number> {
    return this.#sql.largestChunkSize.get() ?? 0;
  }

  async commitFiles(files: Array<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }>): Promise<{ unreferenced: string[] }> {
    return { unreferenced: this.#commitFiles(files) };
  }

  async deleteFile(name: string, deletion?: DeletionRecord): Promise<{ file: FileRecord; unreferenced: string[] } | undefined> {
    return this.#deleteFile(name, deletion);
  }

  async versions(): Promise<Map<string, number>> {
    return new Map(this.#sql.versions.all().map((row) => [row.name, row.version]));
  }

  async nameVersion(name: string): Promise<number> {
    return this.#sql.nameVersion.get(name, name)!;
  }

  async largestVersion(): Promise<number> {
    return this.#sql.largestVersion.get() ?? 0;
  }

  async filesWithoutManifest(): Promise<FileRecord[]> {
    return this.#sql.filesWithoutManifest.all().map(toFile);
  }

  async forgetDeletions(before: string): Promise<string[]> {
    return this.#forgetDeletions(before);
  }

  async recoveryNeeded(): Promise<string | null> {
    return this.#sql.getState.get(RECOVERY_NEEDED) ?? null;
  }

  async setRecoveryNeeded(reason: string | null): Promise<void> {
    if (reason === null) this.#sql.clearState.run(RECOVERY_NEEDED);
    else this.#sql.setState.run(RECOVERY_NEEDED, reason);
  }

  async getChunks(hashes: string[]): Promise<Map<string, RecordedChunk>> {
    const rows = hashes.length === 1 ? this.#sql.getChunk.all(hashes[0]!) : this.#sql.getChunks.all(JSON.stringify(hashes));
    return new Map(rows.map((row) => [row.hash, toChunk(row)]));
  }

  async referenced(hashes: string[]): Promise<Set<string>> {
    return new Set(hashes.filter((hash) => this.#sql.isReferenced.get({ hash }) !== undefined));
  }

  async listChunks(): Promise<RecordedChunk[]> {
    return this.#sql.listChunks.all().map(toChunk);
  }

  async listChunkPage(query: ChunkPageQuery): Promise<ChunkPage> {
    return readChunkPage(this.#chunkReads, query);
  }

  readonly #chunkReads: ChunkReads = {
    sameCopies: async (copies, hash, limit) => this.#sql.chunkPages.sameCopies.all({ copies, hash, limit }).map(toPaged),
    moreCopies: async (copies, lo, hi, limit) => this.#sql.chunkPages.moreCopies.all({ copies, lo, hi, limit }).map(toPaged),
    onNode: async (node, hash, limit) => this.#sql.chunkPages.onNode.all({ node, hash, limit }).map(toPaged),
    all: async (hash, limit) => this.#sql.chunkPages.all.all({ hash, limit }).map(toPaged),
  };

  async chunksOnNode(nodeId: string): Promise<string[]> {
    return this.#sql.chunksOnNode.all(nodeId);
  }

  /** A hash with no chunk row is ignored: no file needs it, so there is nothing to record it for. */
  async addReplica(hash: string, nodeId: string): Promise<void> {
    this.#sql.addReplica.run({ hash, nodeId });
  }

  async addReplicas(copies: Array<{ hash: string; nodeId: string }>): Promise<void> {
    this.#addReplicas(copies);
  }

  async removeReplica(hash: string, nodeId: string): Promise<void> {
    this.#sql.removeReplica.run(hash, nodeId);
  }

  async forgetUnreferenced(hashes: string[]): Promise<string[]> {
    return this.#forgetUnreferenced(hashes);
  }

  async upsertNode(node: NodeRecord): Promise<void> {
    this.#sql.upsertNode.run(toNodeRow(node));
  }

  async setDraining(id: string, draining: boolean): Promise<boolean> {
    return this.#sql.setDraining.run(draining ? 1 : 0, id).changes > 0;
  }

  async setQuarantine(id: string, reason: string | null): Promise<boolean> {
    return this.#sql.setQuarantine.run(reason, id).changes > 0;
  }

  async recordSession(id: string, session: NodeSession): Promise<boolean> {
    const { kind, capacityBytes: capacity, usedBytes: used, chunkCount: count, cpu, lastSeenAt: seen } = session;
    return this.#sql.recordSession.run({ id, kind, capacity, used, count, cpu, seen }).changes > 0;
  }

  async enrollNode(node: NodeRecord): Promise<boolean> {
    return this.#sql.enrollNode.run(toNodeRow(node)).changes > 0;
  }

  async enrollWithInvite(tokenHash: string, node: NodeRecord, now: string): Promise<'enrolled' | 'invalid' | 'taken'> {
    return this.#enrollWithInvite(tokenHash, node, now);
  }

  async createInvite(invite: InviteRecord): Promise<void> {
    this.#sql.insertInvite.run({
      id: invite.id,
      token_hash: invite.tokenHash,
      label: invite.label,
      created_at: invite.createdAt,
      expires_at: invite.expiresAt,
      max_uses: invite.maxUses,
      uses: invite.uses,
      revoked_at: invite.revokedAt,
    });
  }

  async listInvites(): Promise<InviteRecord[]> {
    return this.#sql.listInvites.all().map(toInvite);
  }

  async revokeInvite(id: string, at: string): Promise<boolean> {
    return this.#sql.revokeInvite.run(at, id).changes > 0;
  }

  async getNode(id: string): Promise<NodeRecord | undefined> {
    const row = this.#sql.getNode.get(id);
    return row && toNode(row);
  }

  async listNodes(): Promise<NodeRecord[]> {
    return this.#sql.listNodes.all().map(toNode);
  }

  async reconcileNode(nodeId: string, missing: string[]): Promise<void> {
    this.#reconcileNode(nodeId, missing);
  }

  async removeNode(id: string): Promise<void> {
    this.#removeNode(id);
  }

  /** The open database, for the stores of other tables that share its file and migrations (API tokens). */
  get database(): Database.Database {
    return this.#db;
  }

  async close(): Promise<void> {
    await this.#walSync?.close();
    await this.#checkpointer?.close();
    this.#db.close();
  }

  #unreferenced(hashes: string[]): string[] {
    return hashes.filter((hash) => this.#sql.isReferenced.get({ hash }) === undefined);
  }

  #insertChunks(chunks: ChunkRecord[]): void {
    for (const chunk of chunks) {
      this.#sql.insertChunk.run(chunk.hash, chunk.size);
      for (const nodeId of chunk.nodeIds) this.#sql.insertReplica.run(chunk.hash, nodeId);
    }
  }
}

/**
 * Makes the database file, created if need be, readable by its owner only, and what a release
 * that did not do so left; SQLite gives the -wal and -shm files it creates the database file's mode.
 */
function ownerOnly(path: string): void {
  if (path === ':memory:') return;
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new ShoalError('CONFLICT', `the metadata has schema version ${version}, newer than this release's ${MIGRATIONS.length}: run a newer Shoal`);
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

function toFile(row: FileRow): FileRecord {
  const chunks = JSON.parse(row.chunks) as Array<[string, number, string | null]>;
  return {
    name: row.name,
    size: row.size,
    sha256: row.sha256 === UNKNOWN_SHA256 ? null : row.sha256,
    chunkSize: row.chunk_size,
    chunks: toFileChunks(chunks),
    replicas: row.replicas,
    createdAt: row.created_at,
  };
}

function toChunk(row: ChunkRow): RecordedChunk {
  return { hash: row.hash, size: row.size, nodeIds: JSON.parse(row.node_ids) as string[], kind: row.kind };
}

function toPaged(row: ChunkRow): PagedChunk {
  return { chunk: toChunk(row), copies: row.copies };
}

function toNodeRow(node: NodeRecord): NodeRow & { draining: 0 | 1 } {
  return {
    id: node.id,
    kind: node.kind,
    capacity_bytes: node.capacityBytes,
    used_bytes: node.usedBytes,
    chunk_count: node.chunkCount,
    cpu: node.cpu,
    token_hash: node.tokenHash,
    created_at: node.createdAt,
    last_seen_at: node.lastSeenAt,
    draining: node.draining ? 1 : 0,
    quarantine: node.quarantine,
  };
}
