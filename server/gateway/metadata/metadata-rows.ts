import type { FileChunk, InviteRecord, NodeRecord } from './metadata-store.ts';

/** What both stores' SQL and rows share: the tables are the same, in each database's types. */

/** Whether a file or a deletion names `chunks.hash` as its manifest. */
export const IS_MANIFEST = `(EXISTS (SELECT 1 FROM files WHERE manifest = chunks.hash) OR EXISTS (SELECT 1 FROM tombstones WHERE manifest = chunks.hash))`;

/**
 * `holders (id)` and `elsewhere (hash, n)`, for a WITH RECURSIVE: per chunk, its copies on nodes
 * for which `outside` (an SQL condition on `id`) holds, found from the index on replicas' node
 * ids: the distinct ids by a skip scan, then only those nodes' rows. When every node holding
 * copies is inside (a healthy cluster) it reads next to nothing. MATERIALIZED, so that the planner
 * joins the few rows it finds rather than hashing every chunk before learning there are none.
 */
export function copiesElsewhere(outside: string): string {
  return `
holders (id) AS (
  SELECT min(node_id) FROM replicas
  UNION ALL SELECT (SELECT min(node_id) FROM replicas WHERE node_id > holders.id) FROM holders WHERE holders.id IS NOT NULL
),
elsewhere (hash, n) AS MATERIALIZED (
  SELECT hash, count(*) FROM replicas WHERE node_id IN (SELECT id FROM holders WHERE id IS NOT NULL AND ${outside}) GROUP BY hash
)`;
}

export interface NodeRow {
  id: string;
  kind: NodeRecord['kind'];
  capacity_bytes: number;
  used_bytes: number;
  chunk_count: number;
  cpu: number | null;
  token_hash: string;
  created_at: string;
  last_seen_at: string;
  /** SQLite has no booleans: 0 or 1 there. */
  draining: boolean | 0 | 1;
  quarantine: string | null;
}

export function toNode(row: NodeRow): NodeRecord {
  return {
    id: row.id,
    kind: row.kind,
    capacityBytes: row.capacity_bytes,
    usedBytes: row.used_bytes,
    chunkCount: row.chunk_count,
    cpu: row.cpu,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    draining: row.draining === true || row.draining === 1,
    quarantine: row.quarantine,
  };
}

export interface InviteRow {
  id: string;
  token_hash: string;
  label: string;
  created_at: string;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  revoked_at: string | null;
}

export function toInvite(row: InviteRow): InviteRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxUses: row.max_uses,
    uses: row.uses,
    revokedAt: row.revoked_at,
  };
}

/** A file's chunks as both stores gather them: [hash, size, key or null], in order. */
export function toFileChunks(list: Array<[string, number, string | null]>): FileChunk[] {
  return list.map(([hash, size, key]) => (key === null ? { hash, size } : { hash, size, key }));
}
