import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { exportKeys, importKeys } from '../../cli/cluster-keys.ts';
import { waitFor } from '../../testing/cluster.ts';
import { GatewayProcess } from '../../testing/gateway-process.ts';
import { clusterOnPostgres, describeWithPostgres } from '../../testing/postgres-suite.ts';

const NODE = 'node1';
const FLAGS = ['--heartbeat-ms', '500', '--offline-after-ms', '2000'];
/** Loaded first in the gateway process: its clock (Date.now) runs an hour ahead of the machine's. */
const HOUR_AHEAD = 'data:text/javascript,const real = Date.now.bind(Date); Date.now = () => real() + 3600000;';

describeWithPostgres('node presence is judged by the database clock, not the gateways\'', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 1, gateways: 1, replicas: 1, gatewayArgs: FLAGS });
  let ahead: GatewayProcess | undefined;
  after(async () => {
    await ahead?.stop('SIGKILL');
    if (ahead) await rm(ahead.dataDir, { recursive: true, force: true });
  });

  test('a node heard only by a gateway whose clock runs an hour ahead is offline everywhere soon after that gateway is killed', { timeout: 90_000 }, async () => {
    const metadata = cluster().options.metadata!;
    ahead = new GatewayProcess(await mkdtemp(join(tmpdir(), 'shoal-test-ahead-')), { args: ['--metadata', metadata, ...FLAGS], execArgv: ['--import', HOUR_AHEAD] });
    importKeys(ahead.dataDir, exportKeys(cluster().dataDir), false);
    await ahead.start();
    const aheadId = (await ahead.client.gateways()).find((gateway) => gateway.self)!.id;
    const db = new pg.Client({ connectionString: metadata });
    await db.connect();
    try {
      await waitFor(
        async () => (await db.query('SELECT 1 FROM node_presence WHERE gateway_id = $1 AND node_id = $2', [aheadId, NODE])).rowCount === 1,
        30_000,
        'the gateway an hour ahead hears the node',
      );
    } finally {
      await db.end();
    }
    // The gateway dies without a word (its rows stay), then the node: the first gateway hears it no more itself.
    await ahead.stop('SIGKILL');
    await cluster().killNode(NODE);
    await waitFor(async () => (await cluster().nodeStatus(NODE)) === 'offline', 30_000, 'the node offline on the surviving gateway');
    // And it stays so past a whole --offline-after-ms: not a moment between two reads of the presence.
    await sleep(3000);
    assert.equal(await cluster().nodeStatus(NODE), 'offline');
  });
});
