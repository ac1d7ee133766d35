import { createHmac } from 'node:crypto';

/**
 * What a metadata database records of the cluster it belongs to: the cluster's id, and for each
 * secret its gateways must share (by file name) a check value. A check value is an HMAC keyed by
 * the secret, so the database proves which secret is right without holding anything that opens
 * the data: whoever reads the database learns no key, and the nodes' ciphertext stays sealed.
 */
export interface ClusterRecord {
  clusterId: string;
  checks: Record<string, string>;
}

/** The gateway_state key the record is kept under, in SQLite and PostgreSQL alike. */
export const CLUSTER_RECORD_KEY = 'cluster';

export interface ClusterRecordStore {
  /** The record, or null while no gateway has claimed the database. */
  read(): Promise<ClusterRecord | null>;
  /**
   * In one transaction: stores `record` where none is; adds to one of the same cluster the checks
   * it lacks (those it has are kept); leaves one of another cluster alone. Returns what is stored.
   */
  claim(record: ClusterRecord): Promise<ClusterRecord>;
}

export function checkValue(secret: string): string {
  return createHmac('sha256', secret).update('shoal: the cluster shares this secret').digest('base64url');
}

/** What `claim` stores, given what was there. */
export function claimed(stored: ClusterRecord | null, record: ClusterRecord): ClusterRecord {
  if (stored === null) return record;
  if (stored.clusterId !== record.clusterId) return stored;
  return { clusterId: stored.clusterId, checks: { ...record.checks, ...stored.checks } };
}

export function parseRecord(value: string | null | undefined): ClusterRecord | null {
  return value == null ? null : (JSON.parse(value) as ClusterRecord);
}
