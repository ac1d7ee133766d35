import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { clusterStoresContract } from './cluster-stores.contract.ts';
import { SqliteClusterRecord } from './sqlite-cluster-record.ts';
import { SqliteGatewayDirectory } from './sqlite-gateway-directory.ts';

for (const c of clusterStoresContract(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-cluster-'));
  const metadata = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  return {
    directory: (options) => new SqliteGatewayDirectory(metadata.database, options),
    record: new SqliteClusterRecord(metadata.database),
    cleanup: async () => {
      await metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
})) {
  test(`SqliteGatewayDirectory and SqliteClusterRecord: ${c.name}`, c.run);
}
