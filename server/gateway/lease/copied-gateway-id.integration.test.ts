import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithPostgres } from '../../testing/postgres-suite.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { openGatewayLeases } from './gateway-leases.ts';

// Long enough that a loaded machine's slow renewal never lets the lease lapse during the test.
const TIMING = { repairTtlMs: 10_000, claimsTtlMs: 10_000, renewMs: 200 };

describeWithPostgres('leases of two processes sharing one gateway id', (postgres) => {
  test('a copied data directory (same gateway id) never makes two repair lease holders', async () => {
    const url = await postgres().createDatabase();
    const stores = [(await PostgresMetadataStore.open(url)).store, (await PostgresMetadataStore.open(url)).store];
    const a = await openGatewayLeases(stores[0]!, 'gw-copied', TIMING);
    const b = await openGatewayLeases(stores[1]!, 'gw-copied', TIMING);
    try {
      await a.repair.start();
      await b.repair.start();
      for (let i = 0; i < 10; i++) {
        assert.deepEqual([a.repair.held, b.repair.held], [true, false], `sample ${i}: only the first process holds the lease`);
        await sleep(TIMING.renewMs);
      }
      assert.equal(await b.repair.holder(), 'gw-copied', 'the holder is still reported by gateway id');
      assert.ok(a.claims!.valid && b.claims!.valid, 'each process has chunk claims of its own');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
