import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { nodePresenceContract } from './node-presence.contract.ts';
import { SqliteNodePresence } from './sqlite-node-presence.ts';

for (const c of nodePresenceContract(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-presence-'));
  const metadata = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  return {
    presence: new SqliteNodePresence(metadata.database),
    cleanup: async () => {
      await metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
})) {
  test(`SqliteNodePresence: ${c.name}`, c.run);
}
