import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
  const path = join(dataDir, CLUSTER_ID_FILE);
  if (existsSync(path)) return { id: readFileSync(path, 'utf8').trim(), isNew: false };
  const hadMetadata = existsSync(join(dataDir, 'metadata.db'));
  const id = randomUUID();
  writeFileSync(path, `${id}\n`, { mode: 0o600, flag: 'wx' });
  return { id, isNew: !hadMetadata };
}
