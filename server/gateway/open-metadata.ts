import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_ID_FILE } from './cluster-identity.ts';
import { SqliteMetadataStore } from './metadata/sqlite-metadata-store.ts';

export const METADATA_FILE = 'metadata.db';

/**
 * Opens `DATA/metadata.db`. One created where a cluster already lived (`DATA/cluster-id` is there,
 * and this is not the start that made it) stands in for a lost one: it is marked as needing
 * recovery, so that no gateway serves it, and collects the cluster's chunks as unneeded, before
 * `shoal recover` has rebuilt it from the nodes.
 */
export async function openMetadata(dataDir: string, newCluster = false): Promise<SqliteMetadataStore> {
  const path = join(dataDir, METADATA_FILE);
  const lost = !newCluster && !existsSync(path) && existsSync(join(dataDir, CLUSTER_ID_FILE));
  const metadata = SqliteMetadataStore.open(path);
  if (lost) await metadata.setRecoveryNeeded(`${path} was missing`);
  return metadata;
}
