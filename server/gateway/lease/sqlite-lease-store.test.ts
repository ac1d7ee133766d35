import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { leaseStoreContract } from './lease-store.contract.ts';
import { SqliteLeaseStore } from './sqlite-lease-store.ts';

for (const c of leaseStoreContract(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-leases-'));
  const metadata = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  return {
    store: new SqliteLeaseStore(metadata.database),
    cleanup: async () => {
      await metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
})) {
  test(`SqliteLeaseStore: ${c.name}`, c.run);
}
