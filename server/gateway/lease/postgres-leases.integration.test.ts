import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithPostgres } from '../../testing/postgres-suite.ts';
import { waitFor } from '../../testing/cluster.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { openGatewayLeases, type GatewayLeases } from './gateway-leases.ts';
import { Lease } from './lease.ts';
import { leaseStoreContract } from './lease-store.contract.ts';
import { claimsLeaseName, PostgresChunkClaims } from './postgres-chunk-claims.ts';
import { PostgresLeaseStore } from './postgres-lease-store.ts';

// Renewed five times a second, yet a grant lasts seconds: on a loaded machine a renewal can take
// a second, and a lapse the test did not cause would hand a lease or a claim to the other gateway.
const FAST = { repairTtlMs: 4000, claimsTtlMs: 4000, renewMs: 200 };

describeWithPostgres('leases and chunk claims in PostgreSQL', (postgres) => {
  for (const c of leaseStoreContract(async () => {
    const { store } = await PostgresMetadataStore.open(await postgres().createDatabase());
    return { store: new PostgresLeaseStore(store.pool), cleanup: () => store.close() };
  })) {
    test(`PostgresLeaseStore: ${c.name}`, c.run);
  }

  /** Two gateways' leases over one database, each with its own pool as separate processes would have. */
  const twoGateways = async (): Promise<{ stores: PostgresMetadataStore[]; a: GatewayLeases; b: GatewayLeases; close: () => Promise<void> }> => {
    const url = await postgres().createDatabase();
    const stores = [(await PostgresMetadataStore.open(url)).store, (await PostgresMetadataStore.open(url)).store];
    const a = await openGatewayLeases(stores[0]!, 'gw-a', FAST);
    const b = await openGatewayLeases(stores[1]!, 'gw-b', FAST);
    return {
      stores,
      a,
      b,
      close: async () => {
        await Promise.all([a.stop(), b.stop()]);
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  };

  test('one gateway holds the repair lease; the other takes it over once the holder stops renewing, under a higher epoch', async () => {
    const { a, b, close } = await twoGateways();
    try {
      await a.repair.start();
      await b.repair.start();
      assert.deepEqual([a.repair.held, b.repair.held], [true, false]);
      assert.equal(await b.repair.holder(), 'gw-a');
      const first = a.repair.epoch!;
      const heard: boolean[] = [];
      b.repair.onChange((held) => heard.push(held));
      // The holder dies without a word: its renewals stop, its grant runs out.
      await a.stop();
      await waitFor(() => b.repair.held, 30_000, 'gw-b to take the lease over');
      assert.ok(b.repair.epoch! > first);
      assert.deepEqual(heard, [true]);
      assert.equal(await a.repair.holder(), 'gw-b');
    } finally {
      await close();
    }
  });

  test('a holder that stops gives the lease up: the next takes it at once, under a higher epoch', async () => {
    const url = await postgres().createDatabase();
    const { store } = await PostgresMetadataStore.open(url);
    const leases = new PostgresLeaseStore(store.pool);
    const lease = new Lease(leases, { name: 'repair', holder: 'gw-a', ttlMs: 1000, renewMs: 100 });
    try {
      await lease.start();
      const grant = (await leases.current('repair'))!;
      // Its renewals stop reaching the database (a long pause, a partition): it gives up well before the grant ends.
      await lease.stop();
      assert.equal(lease.held, false);
      const other = new Lease(leases, { name: 'repair', holder: 'gw-b', ttlMs: 1000, renewMs: 100 });
      await other.start();
      assert.ok(other.epoch! > grant.epoch);
      await other.stop();
    } finally {
      await store.close();
    }
  });

  test('a pin on one gateway keeps the other from claiming the chunk for removal; a removal under way makes a pin wait', async () => {
    const { a, b, close } = await twoGateways();
    try {
      await a.claims!.pin(['h1', 'h2']);
      assert.deepEqual(await b.claims!.claimRemoval(['h1', 'h3'], false), ['h3']);
      // b removes h3: a's pin of it waits until that is over.
      let pinned = false;
      const pinning = a.claims!.pin(['h3']).then(() => (pinned = true));
      await sleep(300);
      assert.equal(pinned, false, 'the pin waits for the removal');
      await b.claims!.endRemoval(['h3']);
      await pinning;
      await a.claims!.unpin(['h1', 'h2', 'h3']);
      assert.deepEqual(await b.claims!.claimRemoval(['h1', 'h2', 'h3'], false), ['h1', 'h2', 'h3']);
      assert.deepEqual(await a.claims!.claimRemoval(['h1'], false), [], 'two removals of one chunk never run at once');
    } finally {
      await close();
    }
  });

  test('background removals claim nothing without the repair lease', async () => {
    const { a, b, close } = await twoGateways();
    try {
      await a.repair.start();
      await b.repair.start();
      assert.deepEqual(await b.claims!.claimRemoval(['h1'], true), []);
      assert.deepEqual(await a.claims!.claimRemoval(['h1'], true), ['h1']);
    } finally {
      await close();
    }
  });

  test('a silent gateway\'s pins are revoked before they are ignored, and its writes are fenced from then on', async () => {
    const { stores, a, b, close } = await twoGateways();
    try {
      await a.claims!.pin(['h1']);
      assert.deepEqual(await b.claims!.claimRemoval(['h1'], false), []);
      // gw-a falls silent: its claims lease runs out, and gw-b, needing the chunk, revokes it.
      await a.stop();
      await sleep(FAST.claimsTtlMs + 200);
      assert.deepEqual(await b.claims!.claimRemoval(['h1'], false), ['h1']);
      assert.equal(a.claims!.valid, false);
      await assert.rejects(stores[0]!.setRecoveryNeeded('x'), { code: 'GATEWAY_FENCED' });
      await stores[1]!.setRecoveryNeeded(null);
    } finally {
      await close();
    }
  });

  test('a gateway whose claims were revoked while it lived writes again once the work that relied on them has ended', async () => {
    const url = await postgres().createDatabase();
    const [storeA, storeB] = [(await PostgresMetadataStore.open(url)).store, (await PostgresMetadataStore.open(url)).store];
    const leases = new PostgresLeaseStore(storeA.pool);
    // Renewed only when the test says (tick), so its silence is the test's to choose.
    const own = new Lease(leases, { name: claimsLeaseName('gw-a'), holder: 'gw-a', ttlMs: 60_000, renewMs: 3_600_000 });
    const a = new PostgresChunkClaims(storeA.pool, 'gw-a', own, new Lease(leases, { name: 'repair', holder: 'gw-a', ttlMs: 60_000, renewMs: 3_600_000 }));
    const b = await openGatewayLeases(storeB, 'gw-b', FAST);
    try {
      await a.start();
      storeA.fence = (db) => a.fence(db);
      await a.pin(['h1']);
      // gw-a's grant runs out as if it had fallen silent; gw-b, needing the chunk, revokes its claims.
      await storeA.pool.query('UPDATE leases SET expires_at = clock_timestamp() WHERE name = $1', [claimsLeaseName('gw-a')]);
      assert.deepEqual(await b.claims!.claimRemoval(['h1'], false), ['h1']);
      await b.claims!.endRemoval(['h1']);
      await own.tick();
      assert.equal(own.held, false, 'its renewal finds the epoch moved on');
      await own.tick();
      assert.equal(own.held, true, 'its lease came back, under a new epoch');
      assert.equal(a.valid, false, 'its upload still relies on the revoked pin');
      await assert.rejects(storeA.setRecoveryNeeded(null), { code: 'GATEWAY_FENCED' });
      await a.unpin(['h1']);
      assert.equal(a.valid, true);
      await storeA.setRecoveryNeeded(null);
      await a.pin(['h1']);
      assert.deepEqual(await b.claims!.claimRemoval(['h1'], false), [], 'its new pins count');
    } finally {
      await own.stop();
      await b.stop();
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });
});
