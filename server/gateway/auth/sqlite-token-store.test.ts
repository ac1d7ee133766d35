import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { SqliteTokenStore } from './sqlite-token-store.ts';
import { tokenStoreContract } from './token-store.contract.ts';

for (const c of tokenStoreContract(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-tokens-'));
  const metadata = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  return {
    store: new SqliteTokenStore(metadata.database),
    cleanup: async () => {
      await metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
})) {
  test(`SqliteTokenStore: ${c.name}`, c.run);
}
