import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { ShoalClient } from '../../../shared/api-client.ts';
import type { ShoalEvent } from '../../../shared/api-types.ts';
import type { NodeAgent } from '../../../shared/node-agent.ts';
import { exportKeys, importKeys } from '../../cli/cluster-keys.ts';
import { randomBytesSeeded, runShoal, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { describeWithPostgres } from '../../testing/postgres-suite.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { clusterStoresContract } from './cluster-stores.contract.ts';
import { PostgresClusterRecord } from './postgres-cluster-record.ts';
import { PostgresGatewayDirectory } from './postgres-gateway-directory.ts';
import { CHANNEL_APPLICATION_NAME } from './postgres-notify-channel.ts';

describeWithPostgres('the cluster tables on PostgreSQL, and two gateways sharing them', (server) => {
  // Each gateway's view through a pool of its own, as separate gateways have.
  for (const c of clusterStoresContract(async () => {
    const url = await server().createDatabase();
    const stores: PostgresMetadataStore[] = [];
    for (let i = 0; i < 3; i++) stores.push((await PostgresMetadataStore.open(url)).store);
    let next = 0;
    return {
      directory: (options) => new PostgresGatewayDirectory(stores[next++ % stores.length]!.pool, options),
      record: new PostgresClusterRecord(stores[0]!.pool),
      cleanup: async () => {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  })) {
    test(`PostgresGatewayDirectory and PostgresClusterRecord: ${c.name}`, c.run);
  }

  test('two gateways on one database: the second joins with the keys of the first, they list each other, and what one does shows on the other, also after their channel reconnects', async () => {
    const url = await server().createDatabase();
    const work = await mkdtemp(join(tmpdir(), 'shoal-two-gateways-'));
    const [dirA, dirB] = [join(work, 'a'), join(work, 'b')];
    const options = { port: 0, metadataUrl: url, replicas: 2, heartbeatMs: 500 };
    const gateways: Gateway[] = [];
    const agents: NodeAgent[] = [];
    const stop = new AbortController();
    try {
      const a = await startGateway({ ...options, dataDir: dirA });
      gateways.push(a);
      await assert.rejects(startGateway({ ...options, dataDir: dirB }), /belongs to cluster .* holds none of its keys: .*shoal key import/);
      importKeys(dirB, exportKeys(dirA), false);
      const b = await startGateway({ ...options, dataDir: dirB, publicUrl: 'http://b.example:8001' });
      gateways.push(b);
      assert.equal(b.clusterId, a.clusterId);
      assert.notEqual(b.gatewayId, a.gatewayId);

      const [clientA, clientB] = [a, b].map((g) => new ShoalClient(g.url, { token: g.adminToken })) as [ShoalClient, ShoalClient];
      const listed = (await clientA.gateways()).map(({ id, url, status, self }) => ({ id, url, status, self }));
      assert.deepEqual(
        listed,
        [
          { id: a.gatewayId, url: a.url, status: 'online', self: true },
          { id: b.gatewayId, url: 'http://b.example:8001', status: 'online', self: false },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      assert.deepEqual((await clientB.gateways()).find((g) => g.self)?.id, b.gatewayId);

      // B's dashboard stream, over HTTP like a browser's.
      const seen: ShoalEvent[] = [];
      const opened = new Promise<void>((onOpen) => void clientB.events((event) => seen.push(event), { signal: stop.signal, onOpen }).catch(() => {}));
      await opened;
      // Two nodes given A's address, which stores the file through them, and one given B's.
      for (const id of ['n1', 'n2']) agents.push(startMemoryNode(a.url, dirA, id));
      agents.push(startMemoryNode(b.url, dirB, 'n3'));
      await waitFor(() => a.registry.writable('n1') && a.registry.writable('n2') && b.registry.writable('n3'), 30_000, 'the nodes online');

      await clientA.upload('through-a.bin', randomBytesSeeded(10_000, 1));
      await waitFor(() => seen.some((e) => e.type === 'file.added' && e.file.name === 'through-a.bin'), 30_000, "A's upload on B's stream");
      await clientA.delete('through-a.bin');
      await waitFor(() => seen.some((e) => e.type === 'file.removed' && e.name === 'through-a.bin'), 30_000, "A's deletion on B's stream");

      // Drained through A: B's link stops giving n3 new copies, and B shows it draining.
      await clientA.drainNode('n3');
      await waitFor(() => b.registry.link('n3')?.state === 'draining', 30_000, "B's link to n3 draining");
      await waitFor(() => seen.some((e) => e.type === 'node.stats' && e.node.id === 'n3' && e.node.status === 'draining'), 30_000, 'n3 draining on B\'s stream');
      assert.equal(seen.filter((e) => e.type === 'file.added').length, 1, 'each event once');

      // The channel's connections dropped (a database restart, a proxy): each gateway listens again, and events flow again.
      await dropChannels(url);
      await clientA.upload('after-reconnect.bin', randomBytesSeeded(1000, 2));
      await waitFor(() => seen.some((e) => e.type === 'file.added' && e.file.name === 'after-reconnect.bin'), 30_000, 'an upload through A on B\'s stream after reconnecting');

      // n3 removed through A while B's channel was down (the message B never heard): once B listens
      // again it drops n3's session, as it would have on the message. Kept, B would go on storing
      // new copies on a removed node and telling the others it hears it, so its copies would wait forever.
      const asA = (await PostgresMetadataStore.open(url)).store;
      try {
        await asA.removeNode('n3');
      } finally {
        await asA.close();
      }
      await dropChannels(url);
      await waitFor(() => !b.registry.link('n3'), 30_000, "B drops the removed node's session after it listens again");

      const status = await runShoal(['status', '--gateway', b.url, '--token', b.adminToken]);
      assert.match(status.stdout, new RegExp(`gateway ${a.gatewayId} online +${a.url}`));
      assert.match(status.stdout, new RegExp(`gateway ${b.gatewayId} online +http://b.example:8001.*\\(this one answered\\)`));

      await b.close();
      gateways.pop();
      const after = await clientA.gateways();
      assert.deepEqual(after.map((g) => [g.id, g.status]).sort(), [[a.gatewayId, 'online'], [b.gatewayId, 'offline']].sort());
    } finally {
      stop.abort();
      for (const agent of agents) agent.stop();
      for (const gateway of gateways.reverse()) await gateway.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});

/** Ends both gateways' channel connections, as a database restart would, and waits until both listen again. */
async function dropChannels(url: string): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const listening = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '${CHANNEL_APPLICATION_NAME}' AND (query LIKE 'LISTEN%' OR query LIKE 'SELECT pg_notify%')`;
    assert.equal((await db.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = '${CHANNEL_APPLICATION_NAME}'`)).rows[0].n, 2);
    await waitFor(async () => (await db.query(listening)).rows[0].n === 2, 30_000, 'both gateways listening again');
  } finally {
    await db.end();
  }
}
