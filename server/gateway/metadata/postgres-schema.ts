/**
 * The PostgreSQL schema as a list of migrations; `schema_version` counts those applied, and every
 * gateway applies the missing ones on start, in one transaction, under an advisory lock.
 *
 * The tables are SQLite's (sqlite-metadata-store.ts), in PostgreSQL's types. Names, hashes and
 * node ids are COLLATE "C": byte order, as SQLite compares them, so listings page the same way on
 * both and a prefix is a range of the primary key's index, whatever the database's locale. Times
 * stay ISO 8601 text, compared as text, as in SQLite.
 */
/**
 * chunks.refs counts what references a chunk (file_chunks rows, files and deletions naming it as
 * their manifest) and chunks.copies its replica rows, kept by triggers in the transaction that
 * changes them: health then counts live chunks and those short of copies from one small index
 * instead of reading every chunk (see replicationSummary).
 */
const CHUNK_COUNTERS = `
CREATE FUNCTION shoal_count_copies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN UPDATE chunks SET copies = copies + 1 WHERE hash = NEW.hash;
  ELSE UPDATE chunks SET copies = copies - 1 WHERE hash = OLD.hash;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER replicas_count AFTER INSERT OR DELETE ON replicas FOR EACH ROW EXECUTE FUNCTION shoal_count_copies();

CREATE FUNCTION shoal_count_chunk_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.hash;
  ELSE UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.hash;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER file_chunks_count AFTER INSERT OR DELETE ON file_chunks FOR EACH ROW EXECUTE FUNCTION shoal_count_chunk_refs();

CREATE FUNCTION shoal_count_manifest_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.manifest IS NOT NULL THEN UPDATE chunks SET refs = refs - 1 WHERE hash = OLD.manifest; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.manifest IS NOT NULL THEN UPDATE chunks SET refs = refs + 1 WHERE hash = NEW.manifest; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER files_count AFTER INSERT OR DELETE OR UPDATE OF manifest ON files FOR EACH ROW EXECUTE FUNCTION shoal_count_manifest_refs();
CREATE TRIGGER tombstones_count AFTER INSERT OR DELETE OR UPDATE OF manifest ON tombstones FOR EACH ROW EXECUTE FUNCTION shoal_count_manifest_refs();

CREATE INDEX chunks_live_by_copies ON chunks (copies) WHERE refs > 0;
`;

/**
 * The statement-level trigger that counts the copies a statement added to or removed from
 * replicas: each chunk's copies move by the rows it had in the statement, and while the chunk is
 * live its holders before (without the rows added, or with those removed) leave their count at
 * the old number of copies, and its holders now join theirs at the new one.
 */
function countCopies(event: 'INSERT' | 'DELETE'): string {
  const [name, rows, sign] = event === 'INSERT' ? ['added', 'added_rows', '+'] : ['removed', 'removed_rows', '-'];
  const before =
    event === 'INSERT'
      ? 'SELECT r.node_id FROM replicas r WHERE r.hash = u.hash AND NOT EXISTS (SELECT 1 FROM added_rows n WHERE n.hash = r.hash AND n.node_id = r.node_id)'
      : 'SELECT r.node_id FROM replicas r WHERE r.hash = u.hash UNION ALL SELECT o.node_id FROM removed_rows o WHERE o.hash = u.hash';
  return `
CREATE FUNCTION shoal_replicas_${name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (SELECT hash, count(*) AS k FROM ${rows} GROUP BY hash),
  counted AS (UPDATE chunks c SET copies = c.copies ${sign} d.k FROM changed d WHERE c.hash = d.hash RETURNING c.hash, c.copies, c.refs, d.k)
  INSERT INTO node_copies (node_id, copies, slot, chunks)
    SELECT node_id, copies, pg_backend_pid() % 64, sum(delta) FROM (
      SELECT h.node_id, u.copies ${sign === '+' ? '-' : '+'} u.k AS copies, -1 AS delta FROM counted u, LATERAL (${before}) AS h WHERE u.refs > 0
      UNION ALL SELECT r.node_id, u.copies, 1 FROM counted u JOIN replicas r ON r.hash = u.hash WHERE u.refs > 0
    ) AS d GROUP BY node_id, copies HAVING sum(delta) <> 0
    ON CONFLICT (node_id, copies, slot) DO UPDATE SET chunks = node_copies.chunks + excluded.chunks;
  RETURN NULL;
END $$;
CREATE TRIGGER replicas_${name} AFTER ${event} ON replicas REFERENCING ${event === 'INSERT' ? 'NEW' : 'OLD'} TABLE AS ${rows}
  FOR EACH STATEMENT EXECUTE FUNCTION shoal_replicas_${name}();`;
}

export const POSTGRES_MIGRATIONS = [
  // 1: everything the SQLite store keeps: nodes, files and their chunks, copies, deletions, invites, state.
  `
CREATE TABLE nodes (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('disk', 'browser')),
  capacity_bytes BIGINT NOT NULL,
  used_bytes BIGINT NOT NULL,
  chunk_count BIGINT NOT NULL,
  cpu DOUBLE PRECISION,
  token_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  draining BOOLEAN NOT NULL,
  quarantine TEXT
);

CREATE TABLE chunks (
  hash TEXT COLLATE "C" PRIMARY KEY,
  size BIGINT NOT NULL,
  refs INTEGER NOT NULL DEFAULT 0,
  copies INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE files (
  name TEXT COLLATE "C" PRIMARY KEY,
  size BIGINT NOT NULL,
  sha256 TEXT,
  chunk_size BIGINT NOT NULL,
  replicas INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  version BIGINT NOT NULL,
  manifest TEXT COLLATE "C" REFERENCES chunks (hash)
);
CREATE INDEX files_by_manifest ON files (manifest);

CREATE TABLE file_chunks (
  file_name TEXT COLLATE "C" NOT NULL REFERENCES files (name) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  hash TEXT COLLATE "C" NOT NULL REFERENCES chunks (hash),
  size BIGINT NOT NULL,
  key TEXT,
  PRIMARY KEY (file_name, idx)
);
CREATE INDEX file_chunks_by_hash ON file_chunks (hash);

CREATE TABLE replicas (
  hash TEXT COLLATE "C" NOT NULL REFERENCES chunks (hash) ON DELETE CASCADE,
  node_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (hash, node_id)
);
CREATE INDEX replicas_by_node ON replicas (node_id);

CREATE TABLE tombstones (
  name TEXT COLLATE "C" PRIMARY KEY,
  version BIGINT NOT NULL,
  manifest TEXT COLLATE "C" NOT NULL REFERENCES chunks (hash),
  deleted_at TEXT NOT NULL
);
CREATE INDEX tombstones_by_manifest ON tombstones (manifest);
CREATE INDEX tombstones_by_age ON tombstones (deleted_at);

CREATE TABLE invites (
  id TEXT COLLATE "C" PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  max_uses INTEGER,
  uses INTEGER NOT NULL,
  revoked_at TEXT
);

CREATE TABLE gateway_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

${CHUNK_COUNTERS}
`,
  // 2: API tokens with roles, and the browser sessions they open (auth/postgres-token-store.ts).
  `
CREATE TABLE api_tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE api_sessions (
  session_hash TEXT PRIMARY KEY,
  token_id TEXT COLLATE "C" NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX api_sessions_by_expiry ON api_sessions (expires_at);
`,
  // 3: the S3 API's tables (s3/postgres-s3-store.ts) and uploads in parts (files/postgres-part-store.ts), as in SQLite.
  `
CREATE TABLE s3_buckets (name TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE s3_objects (name TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, etag TEXT NOT NULL, content_type TEXT, metadata TEXT NOT NULL);
CREATE TABLE s3_access_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  sealed_secret TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE s3_multipart_uploads (
  id TEXT COLLATE "C" PRIMARY KEY,
  bucket TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  created_at TEXT NOT NULL,
  content_type TEXT,
  metadata TEXT NOT NULL
);
CREATE INDEX s3_multipart_uploads_by_bucket ON s3_multipart_uploads (bucket, key);
CREATE TABLE upload_sessions (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE upload_parts (
  session_id TEXT COLLATE "C" NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  size BIGINT NOT NULL,
  digest TEXT NOT NULL,
  chunks TEXT NOT NULL,
  records TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (session_id, number)
);
`,
  // Resumable (tus) uploads' sessions, as in SQLite: name, length and idle expiry (null for S3's).
  `
ALTER TABLE upload_sessions ADD COLUMN name TEXT, ADD COLUMN length BIGINT, ADD COLUMN expires_at TEXT;
`,
  // The gateways sharing this database (cluster/postgres-gateway-directory.ts). Their times are the
  // database's clock, not each gateway's, so a gateway's silence is judged the same by every other
  // whatever their clocks say.
  `
CREATE TABLE gateways (
  id TEXT COLLATE "C" PRIMARY KEY,
  url TEXT NOT NULL,
  started_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  stopped BOOLEAN NOT NULL DEFAULT false,
  instance TEXT NOT NULL
);
`,
  // Leases (lease/postgres-lease-store.ts): the repair lease, and each gateway's own, under which
  // its chunk claims count; and the claims (lease/postgres-chunk-claims.ts): chunks a gateway's
  // uploads pin, or whose copies it is removing, so that gateways keep out of each other's way.
  `
CREATE TABLE leases (
  name TEXT COLLATE "C" PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE TABLE chunk_claims (
  hash TEXT COLLATE "C" NOT NULL,
  owner TEXT COLLATE "C" NOT NULL,
  epoch BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('pin', 'remove')),
  PRIMARY KEY (hash, owner, kind)
);
CREATE INDEX chunk_claims_by_owner ON chunk_claims (owner, epoch);
`,
  // Per-node counts of the live chunks each node holds, by the chunk's number of copies (as in
  // SQLite; copy-counts.ts), in slots by backend so that concurrent commits rarely update the same
  // row: readers add the slots up. Copies are counted per statement from its transition table, as a
  // row trigger firing after a many-row insert would see every row of it already there. The
  // repair sweep pages chunks by copies and by node (listChunkPage), hence the wider indexes. And
  // the number of files, which health shows, counted as they come and go, also in slots.
  `
CREATE TABLE node_copies (
  node_id TEXT COLLATE "C" NOT NULL,
  copies INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  chunks BIGINT NOT NULL,
  PRIMARY KEY (node_id, copies, slot)
);
INSERT INTO node_copies (node_id, copies, slot, chunks)
  SELECT r.node_id, c.copies, 0, count(*) FROM replicas r JOIN chunks c ON c.hash = r.hash WHERE c.refs > 0 GROUP BY r.node_id, c.copies;

DROP TRIGGER replicas_count ON replicas;
DROP FUNCTION shoal_count_copies();

${countCopies('INSERT')}
${countCopies('DELETE')}
CREATE FUNCTION shoal_chunk_liveness() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO node_copies (node_id, copies, slot, chunks)
    SELECT node_id, NEW.copies, pg_backend_pid() % 64, CASE WHEN NEW.refs > 0 THEN 1 ELSE -1 END FROM replicas WHERE hash = NEW.hash
    ON CONFLICT (node_id, copies, slot) DO UPDATE SET chunks = node_copies.chunks + excluded.chunks;
  RETURN NULL;
END $$;
CREATE TRIGGER chunks_liveness AFTER UPDATE OF refs ON chunks
  FOR EACH ROW WHEN ((OLD.refs > 0) <> (NEW.refs > 0)) EXECUTE FUNCTION shoal_chunk_liveness();

CREATE INDEX replicas_by_node_hash ON replicas (node_id, hash);
DROP INDEX replicas_by_node;
CREATE INDEX chunks_live_by_copies_hash ON chunks (copies, hash) WHERE refs > 0;
DROP INDEX chunks_live_by_copies;

CREATE TABLE file_count (slot INTEGER PRIMARY KEY, files BIGINT NOT NULL);
INSERT INTO file_count (slot, files) SELECT 0, count(*) FROM files;
CREATE FUNCTION shoal_count_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO file_count (slot, files) VALUES (pg_backend_pid() % 64, CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
    ON CONFLICT (slot) DO UPDATE SET files = file_count.files + excluded.files;
  RETURN NULL;
END $$;
CREATE TRIGGER files_counted AFTER INSERT OR DELETE ON files FOR EACH ROW EXECUTE FUNCTION shoal_count_files();
`,
  // Which gateway hears which node, and when it last did (nodes/node-presence.ts): a node is
  // offline only when no gateway has heard it lately. Times are the database's clock.
  `
CREATE TABLE node_presence (
  node_id TEXT COLLATE "C" NOT NULL,
  gateway_id TEXT COLLATE "C" NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (node_id, gateway_id)
);
`,
];
