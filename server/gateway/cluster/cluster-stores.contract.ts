import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { contractCase, type ContractCase } from '../../../shared/chunk-store.contract.ts';
import type { ClusterRecordStore } from './cluster-record.ts';
import type { GatewayDirectory } from './gateway-directory.ts';

/** One database, and as many gateways' views of its cluster tables as a case asks for. */
export interface ClusterStoresHarness {
  directory(options?: { offlineAfterMs?: number }): GatewayDirectory;
  record: ClusterRecordStore;
  cleanup: () => Promise<void>;
}

/** The behaviour every GatewayDirectory and ClusterRecordStore must show, SQLite's and PostgreSQL's alike. */
export function clusterStoresContract(factory: () => Promise<ClusterStoresHarness>): ContractCase[] {
  const withStores = (name: string, body: (harness: ClusterStoresHarness) => Promise<void>): ContractCase => contractCase(factory, name, body);

  return [
    withStores('gateways list each other by id, and one that closes is offline at once', async ({ directory }) => {
      const [one, two] = [directory(), directory()];
      await one.register({ id: 'gw-b', url: 'http://b:8000' });
      await two.register({ id: 'gw-a', url: 'http://a:8001' });
      const listed = await one.list();
      assert.deepEqual(
        listed.map(({ id, url, status }) => ({ id, url, status })),
        [
          { id: 'gw-a', url: 'http://a:8001', status: 'online' },
          { id: 'gw-b', url: 'http://b:8000', status: 'online' },
        ],
      );
      for (const gateway of listed) assert.ok(!Number.isNaN(Date.parse(gateway.startedAt)) && gateway.startedAt <= gateway.lastSeenAt, JSON.stringify(gateway));
      await two.close();
      await two.heartbeat();
      assert.deepEqual((await one.list()).map(({ id, status }) => [id, status]), [['gw-a', 'offline'], ['gw-b', 'online']], 'a beat after closing changes nothing');
      await one.close();
    }),
    withStores('a gateway not heard for a while is offline; each heartbeat is a newer sighting', async ({ directory }) => {
      const gateway = directory();
      await gateway.register({ id: 'gw-a', url: 'http://a:8000' });
      const [first] = await gateway.list();
      await sleep(20);
      await gateway.heartbeat();
      const [beaten] = await gateway.list();
      assert.ok(beaten!.lastSeenAt > first!.lastSeenAt, `${beaten!.lastSeenAt} after ${first!.lastSeenAt}`);
      assert.equal(beaten!.startedAt, first!.startedAt);
      await sleep(20);
      const [silent] = await directory({ offlineAfterMs: 1 }).list();
      assert.equal(silent!.status, 'offline', 'not heard for longer than this reader allows');
      await gateway.close();
    }),
    withStores('a restarted gateway keeps its row: a new start, its new address, online again', async ({ directory }) => {
      const before = directory();
      await before.register({ id: 'gw-a', url: 'http://a:8000' });
      const [first] = await before.list();
      await before.close();
      await sleep(5);
      const after = directory();
      await after.register({ id: 'gw-a', url: 'http://a:9000' });
      const listed = await after.list();
      assert.equal(listed.length, 1);
      assert.deepEqual([listed[0]!.url, listed[0]!.status], ['http://a:9000', 'online']);
      assert.ok(listed[0]!.startedAt > first!.startedAt);
      await after.close();
    }),
    withStores("a second process under the same id takes the row: the first's heartbeat says so, and its closing leaves the row alone", async ({ directory }) => {
      const [original, copy] = [directory(), directory()];
      await original.register({ id: 'gw-a', url: 'http://a:8000' });
      assert.equal(await original.heartbeat(), true);
      await copy.register({ id: 'gw-a', url: 'http://copy:8000' });
      assert.equal(await original.heartbeat(), false);
      assert.equal(await copy.heartbeat(), true);
      await original.close();
      assert.deepEqual((await copy.list()).map(({ url, status }) => [url, status]), [['http://copy:8000', 'online']]);
      await copy.close();
    }),
    withStores('the first claim of a database stores the cluster; later ones of that cluster add checks, of another change nothing', async ({ record }) => {
      assert.equal(await record.read(), null);
      const first = { clusterId: 'c1', checks: { 'data-key': 'k1' } };
      assert.deepEqual(await record.claim(first), first);
      const added = await record.claim({ clusterId: 'c1', checks: { 'data-key': 'other', 'join-secret': 'j1' } });
      assert.deepEqual(added, { clusterId: 'c1', checks: { 'data-key': 'k1', 'join-secret': 'j1' } }, 'a check once made stays');
      assert.deepEqual(await record.claim({ clusterId: 'c2', checks: { 'data-key': 'k2' } }), added);
      assert.deepEqual(await record.read(), added);
    }),
    withStores('of two clusters claiming an empty database at once, one wins and both are told which', async ({ record }) => {
      const answers = await Promise.all([
        record.claim({ clusterId: 'c1', checks: { 'data-key': 'k1' } }),
        record.claim({ clusterId: 'c2', checks: { 'data-key': 'k2' } }),
      ]);
      assert.deepEqual(answers[0], answers[1]);
      assert.deepEqual(await record.read(), answers[0]);
    }),
  ];
}
