import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';
import { place } from './secret-file.ts';

export interface ClusterIdentity {
  id: string;
  /** Made by this start, in a data directory that held no cluster. */
  isNew: boolean;
}

/**
 * A cluster's id, created with its data directory and kept beside the metadata. Nodes record the
 * id they joined, so a gateway and nodes of different clusters never mistake each other: nothing
 * is collected or trimmed because of such a meeting. A directory written before cluster ids
 * existed keeps its metadata and gets an id now; it is not new.
 */
export const CLUSTER_ID_FILE = 'cluster-id';

export function loadClusterIdentity(dataDir: string): ClusterIdentity {
  const existing = readClusterId(dataDir);
  if (existing !== null) return { id: existing, isNew: false };
  const path = join(dataDir, CLUSTER_ID_FILE);
  const hadMetadata = existsSync(join(dataDir, 'metadata.db'));
  const id = randomUUID();
  writeFileSync(path, `${id}\n`, { mode: 0o600, flag: 'wx' });
  return { id, isNew: !hadMetadata };
}

/** The data directory's cluster id, or null when it has none. */
export function readClusterId(dataDir: string): string | null {
  const path = join(dataDir, CLUSTER_ID_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
}

/**
 * Makes `id` the data directory's cluster (`shoal key import`, for a second gateway or a new
 * machine). Another id already there is kept and CONFLICT thrown unless `replace`.
 */
export function storeClusterId(dataDir: string, id: string, replace: boolean): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new ShoalError('BAD_REQUEST', `${JSON.stringify(id)} is not a cluster id`);
  place(dataDir, join(dataDir, CLUSTER_ID_FILE), id, replace);
  if (readClusterId(dataDir) !== id) throw new ShoalError('CONFLICT', `${join(dataDir, CLUSTER_ID_FILE)} names another cluster: it was kept`);
}
