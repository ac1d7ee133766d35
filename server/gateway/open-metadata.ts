import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';
import { CLUSTER_ID_FILE } from './cluster-identity.ts';
import type { MetadataStore } from './metadata/metadata-store.ts';
import { PostgresMetadataStore } from './metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from './metadata/sqlite-metadata-store.ts';

export const METADATA_FILE = 'metadata.db';

/**
 * Opens the metadata: in PostgreSQL when `url` is given (postgres://user@host:port/db), otherwise
 * `DATA/metadata.db`. One created where a cluster already lived (`DATA/cluster-id` is there, and
 * this is not the start that made it) stands in for a lost one: it is marked as needing recovery,
 * so that no gateway serves it, and collects the cluster's chunks as unneeded, before `shoal
 * recover` has rebuilt it from the nodes.
 */
export async function openMetadata(dataDir: string, newCluster = false, url?: string): Promise<MetadataStore> {
  const clusterLived = !newCluster && existsSync(join(dataDir, CLUSTER_ID_FILE));
  if (url !== undefined) {
    const { store, created } = await PostgresMetadataStore.open(checkUrl(url));
    if (created && clusterLived) await store.setRecoveryNeeded(`the PostgreSQL database ${redacted(url)} had no Shoal metadata`);
    return store;
  }
  const path = join(dataDir, METADATA_FILE);
  const lost = clusterLived && !existsSync(path);
  const metadata = SqliteMetadataStore.open(path);
  if (lost) await metadata.setRecoveryNeeded(`${path} was missing`);
  return metadata;
}

function checkUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ShoalError('BAD_REQUEST', `--metadata takes a postgres:// URL, not ${JSON.stringify(redacted(url))}`);
  return url;
}

/** The URL without its password, to be shown. */
export function redacted(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
