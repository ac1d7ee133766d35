import type { MetadataStore } from '../metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import type { ClusterRecordStore } from './cluster-record.ts';
import type { GatewayDirectory } from './gateway-directory.ts';
import { PostgresClusterRecord } from './postgres-cluster-record.ts';
import { PostgresGatewayDirectory } from './postgres-gateway-directory.ts';
import { PostgresNotifyChannel } from './postgres-notify-channel.ts';
import type { ClusterChannel } from './cluster-channel.ts';
import { SqliteClusterRecord } from './sqlite-cluster-record.ts';
import { SqliteGatewayDirectory } from './sqlite-gateway-directory.ts';

export interface ClusterStores {
  record: ClusterRecordStore;
  directory: GatewayDirectory;
  /** Opens the channel to the other gateways: null where there can be none (SQLite). */
  openChannel(): Promise<ClusterChannel | null>;
}

/** The cluster's tables beside `metadata`, in the same database (its migrations made them). */
export function openClusterStores(metadata: MetadataStore): ClusterStores {
  if (metadata instanceof SqliteMetadataStore) {
    return { record: new SqliteClusterRecord(metadata.database), directory: new SqliteGatewayDirectory(metadata.database), openChannel: async () => null };
  }
  if (metadata instanceof PostgresMetadataStore) {
    return {
      record: new PostgresClusterRecord(metadata.pool),
      directory: new PostgresGatewayDirectory(metadata.pool),
      openChannel: () => PostgresNotifyChannel.open(metadata.pool),
    };
  }
  throw new Error(`no cluster tables for a ${metadata.constructor.name}`);
}
