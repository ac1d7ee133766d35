import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FAST_REPAIR, randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';
import type { GatewayProcess } from '../../testing/gateway-process.ts';
import { describeWithPostgres } from '../../testing/postgres-suite.ts';
import { sha256Hex } from '../../sha256.ts';

/** The gateway that holds the repair lease, as `asked` sees it, and the other. */
async function roles(cluster: TestCluster, asked = cluster.gateways[0]!): Promise<{ holder: GatewayProcess; other: GatewayProcess }> {
  const view = await asked.client.gateways();
  const repairers = view.filter((g) => g.repairer);
  assert.equal(repairers.length, 1, 'exactly one repairer');
  const holder = cluster.gateways.find((gateway) => gateway.url === repairers[0]!.url)!;
  return { holder, other: cluster.gateways.find((gateway) => gateway !== holder)! };
}

/** Every chunk of `name` has at least `replicas` copies on online nodes, as `gateway` sees it. */
async function replicated(gateway: GatewayProcess, name: string, replicas = 2): Promise<boolean> {
  const detail = await gateway.client.fileDetail(name);
  return detail.chunks.every((chunk) => chunk.missing === 0 && chunk.copies.filter((c) => c.state === 'online').length >= replicas);
}

async function digestOf(gateway: GatewayProcess, name: string): Promise<string> {
  return sha256Hex(new Uint8Array(await (await gateway.client.download(name)).arrayBuffer()));
}

describeWithPostgres('one repairer at a time over PostgreSQL', (postgres) => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({ nodes: 4, gateways: 2, metadata: await postgres().createDatabase(), gatewayArgs: FAST_REPAIR });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('only the lease holder repairs; killed with -9, the other takes the lease over within seconds and repairs in its place', { timeout: 180_000 }, async () => {
    const files = new Map<string, string>();
    for (let i = 0; i < 4; i++) {
      const data = randomBytesSeeded(50_000 + i, 40 + i);
      await cluster.gateways[i % 2]!.client.upload(`kept-${i}.bin`, data);
      files.set(`kept-${i}.bin`, sha256Hex(data));
    }
    const { holder, other } = await roles(cluster);
    assert.equal((await roles(cluster, other)).holder, holder, 'both gateways name the same repairer');

    await cluster.killNode('node1');
    await waitFor(async () => (await holder.client.health()).underReplicatedChunks === 0 && (await holder.client.health()).repair.done > 0, 60_000, 'the holder to repair');
    // /api/health shows the repairer's figures wherever asked (cluster/repairer-desk.ts): the other's are the holder's.
    const done = (await holder.client.health()).repair.done;
    await waitFor(async () => (await other.client.health()).repair.done === done, 30_000, 'the holder\'s figures on the other gateway');

    await holder.stop('SIGKILL');
    await waitFor(async () => (await roles(cluster, other)).holder === other, 30_000, 'the lease to move to the survivor');

    await cluster.killNode('node2');
    await waitFor(async () => (await other.client.health()).underReplicatedChunks === 0 && (await other.client.health()).repair.done > 0, 60_000, 'the survivor to repair');
    for (const [name, digest] of files) {
      assert.equal(await digestOf(other, name), digest, name);
      assert.ok(await replicated(other, name), `${name} has its copies`);
    }
  });
});

describeWithPostgres('chunk locks across gateways', (postgres) => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({ nodes: 3, gateways: 2, metadata: await postgres().createDatabase(), gatewayArgs: [...FAST_REPAIR, '--gc-grace', '1s'] });
  });
  after(async () => {
    await cluster?.stop();
  });

  // Two minutes on a loaded two-core machine: 96 uploads and 48 deletes over PostgreSQL.
  test('an upload through one gateway of chunks that a delete through the repairer releases meanwhile ends with every acknowledged file whole, at R copies', { timeout: 480_000 }, async () => {
    const { holder, other } = await roles(cluster);
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      const contents = Array.from({ length: 12 }, (_, i) => randomBytesSeeded(30_000 + i, 1000 * round + i));
      for (const [i, data] of contents.entries()) await holder.client.upload(`old/${round}-${i}`, data);
      // The same bytes again through the other gateway, while the repairer deletes the files that hold them:
      // the new file dedups onto the chunks the delete releases.
      // A few pairs at a time: each pair races on its own chunk, and more at once would only load the database.
      for (let batch = 0; batch < contents.length; batch += 4) {
        await Promise.all(
          contents.slice(batch, batch + 4).map(async (data, j) => {
            const i = batch + j;
            const name = `new/${round}-${i}`;
            const upload = other.client.upload(name, data).then(() => acknowledged.set(name, sha256Hex(data)));
            await Promise.all([holder.client.delete(`old/${round}-${i}`), upload]);
          }),
        );
      }
    }
    assert.equal(acknowledged.size, 48, 'every upload was acknowledged');
    // Collection runs on the repairer meanwhile: give it a few passes over whatever it learnt.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const [name, digest] of acknowledged) {
      for (const gateway of [holder, other]) assert.equal(await digestOf(gateway, name), digest, `${name} through ${gateway.url}`);
      assert.ok(await replicated(holder, name), `${name} has R copies`);
    }
  });
});
