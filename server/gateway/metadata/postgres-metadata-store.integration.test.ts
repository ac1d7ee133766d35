import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../testing/postgres-server.ts';
import { PostgresTokenStore } from '../auth/postgres-token-store.ts';
import { tokenStoreContract } from '../auth/token-store.contract.ts';
import { PostgresPartStore } from '../files/postgres-part-store.ts';
import { nodePresenceContract } from '../nodes/node-presence.contract.ts';
import { PostgresNodePresence } from '../nodes/postgres-node-presence.ts';
import { PostgresS3Store } from '../s3/postgres-s3-store.ts';
import { S3_STORE_CONTRACT } from '../s3/s3-stores.contract.ts';
import { metadataStoreContract } from './metadata-store.contract.ts';
import { POSTGRES_SCHEMA_VERSION, PostgresMetadataStore } from './postgres-metadata-store.ts';

// The same cases as SqliteMetadataStore's, each on a fresh database of one real server.
const unavailable = postgresUnavailable();
if (unavailable) {
  console.log(unavailable);
  test('PostgresMetadataStore', { skip: unavailable }, () => {});
} else {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  for (const c of metadataStoreContract(async () => {
    const url = await server.createDatabase();
    return {
      store: (await PostgresMetadataStore.open(url)).store,
      reopen: async () => (await PostgresMetadataStore.open(url)).store,
      cleanup: async () => {},
    };
  })) {
    test(`PostgresMetadataStore: ${c.name}`, c.run);
  }

  // The tables of other stores that share the metadata's database, case for case as on SQLite.
  for (const c of tokenStoreContract(async () => {
    const { store } = await PostgresMetadataStore.open(await server.createDatabase());
    return { store: new PostgresTokenStore(store), cleanup: () => store.close() };
  })) {
    test(`PostgresTokenStore: ${c.name}`, c.run);
  }

  for (const c of nodePresenceContract(async () => {
    const { store } = await PostgresMetadataStore.open(await server.createDatabase());
    return { presence: new PostgresNodePresence(store), cleanup: () => store.close() };
  })) {
    test(`PostgresNodePresence: ${c.name}`, c.run);
  }

  for (const c of S3_STORE_CONTRACT) {
    test(`PostgresS3Store and PostgresPartStore: ${c.name}`, async () => {
      const { store } = await PostgresMetadataStore.open(await server.createDatabase());
      try {
        await c.run({ s3: new PostgresS3Store(store), parts: new PostgresPartStore(store) });
      } finally {
        await store.close();
      }
    });
  }

  test('PostgresMetadataStore: the schema is made once, versioned, and a newer one is refused', async () => {
    const url = await server.createDatabase();
    const first = await PostgresMetadataStore.open(url);
    assert.equal(first.created, true);
    await first.store.close();
    const again = await PostgresMetadataStore.open(url);
    assert.equal(again.created, false, 'a database with the schema is not new');
    await again.store.close();

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      assert.deepEqual((await client.query('SELECT version FROM schema_version')).rows, [{ version: POSTGRES_SCHEMA_VERSION }]);
      await client.query('UPDATE schema_version SET version = $1', [POSTGRES_SCHEMA_VERSION + 1]);
    } finally {
      await client.end();
    }
    await assert.rejects(PostgresMetadataStore.open(url), /newer than this release/);
  });

  test('PostgresMetadataStore: gateways starting together on an empty database make the schema once', async () => {
    const url = await server.createDatabase();
    const opened = await Promise.all([1, 2, 3].map(() => PostgresMetadataStore.open(url)));
    assert.deepEqual(opened.map((o) => o.created).sort(), [false, false, true]);
    await Promise.all(opened.map((o) => o.store.close()));
  });

  test('PostgresMetadataStore: a commit that fails midway leaves the previous state untouched', async () => {
    const { store } = await PostgresMetadataStore.open(await server.createDatabase());
    try {
      const [a, b] = ['a', 'b'].map((c) => c.repeat(64)) as [string, string];
      const before = {
        name: 'x', size: 10, sha256: '0'.repeat(64), chunkSize: 10, chunks: [{ hash: a, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z',
      };
      await store.commitFile(before, [{ hash: a, size: 10, nodeIds: ['n1'] }]);
      await assert.rejects(store.commitFile({ ...before, name: 'y', chunks: [{ hash: b, size: 10 }] }, [{ hash: a, size: 10, nodeIds: ['n2'] }]), /foreign key/);
      assert.deepEqual(await store.listFiles(), [before]);
      assert.deepEqual(await store.chunksOnNode('n2'), [], 'the copies recorded before the failure went with it');
    } finally {
      await store.close();
    }
  });

  test('PostgresMetadataStore: concurrent commits sharing chunks each see the others as done', async () => {
    const { store } = await PostgresMetadataStore.open(await server.createDatabase());
    try {
      const shared = 'a'.repeat(64);
      const file = (name: string) => ({
        name, size: 10, sha256: '0'.repeat(64), chunkSize: 10, chunks: [{ hash: shared, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z',
      });
      const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
      await Promise.all(names.map((name) => store.commitFile(file(name), [{ hash: shared, size: 10, nodeIds: [`n${name}`] }])));
      const deleted = await Promise.all(names.map((name) => store.deleteFile(name)));
      assert.deepEqual(deleted.flatMap((d) => d!.unreferenced), [shared], 'exactly the last delete, whichever it was, releases the chunk');
    } finally {
      await store.close();
    }
  });
}
