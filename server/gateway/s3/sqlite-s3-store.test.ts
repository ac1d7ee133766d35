import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqlitePartStore } from '../files/sqlite-part-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { S3_STORE_CONTRACT } from './s3-stores.contract.ts';
import { SqliteS3Store } from './sqlite-s3-store.ts';

for (const c of S3_STORE_CONTRACT) {
  test(`SqliteS3Store and SqlitePartStore: ${c.name}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-s3-store-'));
    const metadata = SqliteMetadataStore.open(join(dir, 'metadata.db'));
    try {
      await c.run({ s3: new SqliteS3Store(metadata.database), parts: new SqlitePartStore(metadata.database) });
    } finally {
      await metadata.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
