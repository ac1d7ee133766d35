import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { contractCase, type ContractCase } from '../../../shared/chunk-store.contract.ts';
import type { LeaseStore } from './lease-store.ts';

export interface LeaseStoreHarness {
  store: LeaseStore;
  cleanup: () => Promise<void>;
}

const LONG = 60_000;

/** The behaviour every LeaseStore must show, as plain async cases (run on SQLite and on a real PostgreSQL). */
export function leaseStoreContract(factory: () => Promise<LeaseStoreHarness>): ContractCase[] {
  const withStore = (name: string, body: (store: LeaseStore) => Promise<void>): ContractCase => contractCase(factory, name, (harness) => body(harness.store));

  return [
    withStore('one holder at a time, renewed only under its own epoch', async (store) => {
      assert.equal(await store.current('repair'), null);
      const a = await store.acquire('repair', 'gw-a', LONG);
      assert.equal(a?.holder, 'gw-a');
      assert.equal(await store.acquire('repair', 'gw-b', LONG), null, 'taken while it runs');
      assert.equal((await store.current('repair'))?.holder, 'gw-a');
      const renewed = await store.renew('repair', 'gw-a', a!.epoch, LONG);
      assert.equal(renewed?.epoch, a!.epoch);
      assert.ok(Date.parse(renewed!.expiresAt) >= Date.parse(a!.expiresAt));
      assert.equal(await store.renew('repair', 'gw-a', a!.epoch + 1, LONG), null, 'an epoch it was never given');
      assert.equal(await store.renew('repair', 'gw-b', a!.epoch, LONG), null, 'another holder');
      assert.equal(await store.current('other'), null, 'leases are by name');
      assert.equal((await store.acquire('other', 'gw-b', LONG))?.holder, 'gw-b');
    }),
    withStore('an expired lease is taken over under a higher epoch, and its old holder cannot renew it', async (store) => {
      const a = await store.acquire('repair', 'gw-a', 1);
      await sleep(20);
      assert.equal(await store.current('repair'), null, 'expired');
      const b = await store.acquire('repair', 'gw-b', LONG);
      assert.ok(b && b.epoch > a!.epoch);
      assert.equal(await store.renew('repair', 'gw-a', a!.epoch, LONG), null);
      assert.equal((await store.current('repair'))?.holder, 'gw-b');
    }),
    withStore('a lease that ran out but that nobody took may be renewed by its holder', async (store) => {
      const a = await store.acquire('repair', 'gw-a', 1);
      await sleep(20);
      assert.equal((await store.renew('repair', 'gw-a', a!.epoch, LONG))?.epoch, a!.epoch);
      assert.equal(await store.acquire('repair', 'gw-b', LONG), null);
    }),
    withStore('its holder starting again takes it at once, under a new epoch that fences the old one', async (store) => {
      const before = await store.acquire('repair', 'gw-a', LONG);
      const after = await store.acquire('repair', 'gw-a', LONG);
      assert.ok(after && after.epoch > before!.epoch);
      assert.equal(await store.renew('repair', 'gw-a', before!.epoch, LONG), null);
    }),
    withStore('a released lease is free at once, and the next epoch is still higher', async (store) => {
      const a = await store.acquire('repair', 'gw-a', LONG);
      await store.release('repair', 'gw-b', a!.epoch);
      assert.equal((await store.current('repair'))?.holder, 'gw-a', 'only its holder releases it');
      await store.release('repair', 'gw-a', a!.epoch);
      assert.equal(await store.current('repair'), null);
      const b = await store.acquire('repair', 'gw-b', LONG);
      assert.ok(b && b.epoch > a!.epoch);
    }),
    withStore('of many asking at once, exactly one is given the lease', async (store) => {
      const grants = await Promise.all(Array.from({ length: 8 }, (_, i) => store.acquire('repair', `gw-${i}`, LONG)));
      assert.equal(grants.filter((g) => g !== null).length, 1);
    }),
  ];
}
