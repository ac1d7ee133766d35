import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesSeeded } from '../../testing/cluster.ts';
import { clusterOnPostgres, describeWithPostgres } from '../../testing/postgres-suite.ts';
import { sha256Hex } from '../../sha256.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';

/** An hour in versions (microseconds): how far ahead the clock of the gateway that wrote first runs. */
const HOUR = 3_600_000_000;

describeWithPostgres('file versions across gateways', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 2, replicas: 2, gateways: 2 });

  test('a later write through a gateway whose clock runs behind still gets the higher version, and wins', { timeout: 120_000 }, async () => {
    const [a, b] = cluster().gateways;
    const { store } = await PostgresMetadataStore.open(cluster().options.metadata!);
    try {
      await a!.client.upload('skewed.bin', randomBytesSeeded(50_000, 1));
      // As if gateway A's clock ran an hour ahead when it wrote the name.
      await store.pool.query('UPDATE files SET version = version + $2 WHERE name = $1', ['skewed.bin', HOUR]);
      const ahead = await store.nameVersion('skewed.bin');

      const later = randomBytesSeeded(60_000, 2);
      await b!.client.upload('skewed.bin', later);
      assert.ok((await store.nameVersion('skewed.bin')) > ahead, 'the later write is the newer version, as recovery judges it');
      for (const gateway of [a!, b!]) {
        assert.equal(sha256Hex(new Uint8Array(await (await gateway.client.download('skewed.bin')).arrayBuffer())), sha256Hex(later));
      }

      await store.pool.query('UPDATE files SET version = version + $2 WHERE name = $1', ['skewed.bin', HOUR]);
      const again = await store.nameVersion('skewed.bin');
      await a!.client.delete('skewed.bin');
      assert.ok((await store.nameVersion('skewed.bin')) > again, 'a deletion goes above the stored version too');
    } finally {
      await store.close();
    }
  });

  test('one name written through both gateways at once: every write is acknowledged, and what stays is one of them', { timeout: 120_000 }, async () => {
    const [a, b] = cluster().gateways;
    for (let round = 0; round < 6; round++) {
      const contents = [randomBytesSeeded(20_000, 10 * round), randomBytesSeeded(20_000, 10 * round + 1)];
      // A write whose version another gateway's commit overtook is sealed again above it, not refused.
      await Promise.all([a!.client.upload('raced.bin', contents[0]!), b!.client.upload('raced.bin', contents[1]!)]);
      const kept = sha256Hex(new Uint8Array(await (await a!.client.download('raced.bin')).arrayBuffer()));
      assert.ok(contents.some((data) => sha256Hex(data) === kept), `round ${round}`);
    }
  });
});
