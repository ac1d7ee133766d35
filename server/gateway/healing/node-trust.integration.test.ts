import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { CLOSE, INVENTORY_PAGE_SIZE } from '../../../shared/protocol.ts';
import { cpuSeconds } from '../../bench/process-cpu.ts';
import { assertAllIntact, FAST_REPAIR, fullyReplicated, runShoal, TestCluster, uploadSet, waitFor } from '../../testing/cluster.ts';
import { ScriptedNode, type NodeRequest, type ScriptedAnswer } from '../../testing/scripted-node.ts';
import { loadJoinSecret } from '../nodes/join-secret.ts';

/** Far more than every honest node together: placement ranks such a node first for every chunk. */
const HUGE = 2 ** 52;
/** Small files, one chunk each. */
const SMALL = 20_000;

/** The ids the nodes hold the files' single chunks under: what a liar that saw them stored can know. */
async function chunkIdsOf(cluster: TestCluster, files: Map<string, string>): Promise<string[]> {
  return Promise.all([...files.keys()].map(async (name) => (await cluster.client.fileDetail(name)).chunks[0]!.hash));
}

function liar(cluster: TestCluster, nodeId: string, answer?: (request: NodeRequest) => ScriptedAnswer): Promise<ScriptedNode> {
  return ScriptedNode.connect({ gatewayUrl: cluster.url, nodeId, token: `token-of-${nodeId}-scripted`, join: loadJoinSecret(cluster.dataDir), capacityBytes: HUGE, answer });
}

async function vmRssBytes(pid: number): Promise<number> {
  const kib = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(kib![1]) * 1024;
}

describe('a node may lie', () => {
  test('claims: nodes listing chunks they do not hold add no copies, so no real copy is trimmed and nothing is lost when they go', async () => {
    const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: [...FAST_REPAIR, '--gc-grace', '1s'] });
    try {
      const files = await uploadSet(cluster, 10, SMALL, 700);
      const honest = ['node1', 'node2'];
      const copiesBefore = await cluster.copiesOnDisk(honest);
      assert.deepEqual([...copiesBefore.values()], Array(10).fill(2));

      const liars = await Promise.all([liar(cluster, 'liar1'), liar(cluster, 'liar2')]);
      for (const node of liars) await node.sendInventory(await chunkIdsOf(cluster, files));
      await cluster.waitForOnline(4);
      // The gateway trimmed every real copy within a second of such claims; give it several.
      await sleep(3000);
      await waitFor(() => fullyReplicated(cluster), 30_000, 'repair idle');

      assert.deepEqual(await cluster.copiesOnDisk(honest), copiesBefore, 'every honest copy is still on disk');
      const nodes = await cluster.client.nodes();
      for (const id of ['liar1', 'liar2']) assert.equal(nodes.find((n) => n.id === id)?.recordedChunks, 0, `${id} is recorded as holding nothing`);
      const health = await cluster.client.health();
      assert.equal(health.status, 'ok');
      assert.equal(health.underReplicatedChunks, 0);
      await assertAllIntact(cluster, files);

      await Promise.all(liars.map((node) => node.close()));
      await waitFor(async () => (await cluster.client.health()).nodesOnline === 2, 30_000, 'liars gone');
      await sleep(2000);
      assert.equal((await cluster.client.health()).status, 'ok');
      assert.deepEqual(await cluster.copiesOnDisk(honest), copiesBefore, 'nothing lost after the liars left');
      await assertAllIntact(cluster, files);
    } finally {
      await cluster.stop();
    }
  });

  test('wrong bytes: the download is right, repair never writes the chunk back to the liar, repeated lies quarantine it until trusted', async () => {
    const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: FAST_REPAIR });
    try {
      const log: Array<{ type: 'put' | 'get'; hash: string }> = [];
      // Until the operator has dealt with it, the node lies; after, it admits it holds nothing.
      let lying = true;
      const node = await liar(cluster, 'liar', ({ header }) => {
        if (header.type === 'delete') return { type: 'ok' };
        log.push({ type: header.type, hash: header.hash });
        if (header.type === 'put') return { type: 'ok' };
        return lying ? { type: 'data', payload: randomBytes(20_000) } : { type: 'error', code: 'CHUNK_NOT_FOUND' };
      });
      await node.sendInventory([]);
      await cluster.waitForOnline(3);

      // Every chunk lands on the liar and one honest node, and each read picks one of the two at
      // random: with 30 chunks, fewer than three wrong answers happen once in millions of runs.
      const files = await uploadSet(cluster, 30, SMALL, 800);
      assert.equal(log.filter((e) => e.type === 'put').length, 60, "the liar took a copy of every chunk and of every file's manifest");
      await assertAllIntact(cluster, files);
      const lied = log.filter((e) => e.type === 'get').map((e) => e.hash);
      assert.ok(lied.length >= 3, `the liar was asked ${lied.length} times`);

      await waitFor(() => fullyReplicated(cluster), 30_000, 'repair of the chunks the liar served wrong');
      for (const hash of new Set(lied)) {
        const firstLie = log.findIndex((e) => e.type === 'get' && e.hash === hash);
        assert.ok(!log.slice(firstLie).some((e) => e.type === 'put' && e.hash === hash), `chunk ${hash.slice(0, 12)} was written back to the liar`);
      }
      const quarantined = (await cluster.client.nodes()).find((n) => n.id === 'liar');
      assert.match(quarantined?.quarantine ?? '', /wrong bytes/);
      const copies = await cluster.copiesOnDisk(['node1', 'node2']);
      for (const hash of await chunkIdsOf(cluster, files)) assert.equal(copies.get(hash), 2, `chunk ${hash.slice(0, 12)} has both honest copies`);

      const putsBefore = log.filter((e) => e.type === 'put').length;
      await uploadSet(cluster, 3, SMALL, 900);
      assert.equal(log.filter((e) => e.type === 'put').length, putsBefore, 'a quarantined node takes no new copies');

      lying = false;
      const trusted = await runShoal(['node', 'trust', 'liar'], { SHOAL_GATEWAY: cluster.url, SHOAL_TOKEN: cluster.token });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal((await cluster.client.nodes()).find((n) => n.id === 'liar')?.quarantine, null);
      await uploadSet(cluster, 3, SMALL, 1000);
      assert.ok(log.filter((e) => e.type === 'put').length > putsBefore, 'a trusted node takes copies again');
      await node.close();
    } finally {
      await cluster.stop();
    }
  });

  test('inventory flood: millions of hashes in pages never marked done keep the gateway small and answering, and leave nothing pending; a page too large or one too many ends the session', async () => {
    const cluster = await TestCluster.start({ nodes: 0 });
    const pid = cluster.gateway!.pid!;
    try {
      // The first answer of a fresh gateway loads code; what is timed is how the flood slows it.
      await cluster.client.health();
      const baseline = await vmRssBytes(pid);
      const flooders = await Promise.all(['flood1', 'flood2', 'flood3'].map((id) => liar(cluster, id)));
      let peakRss = baseline;
      // What is bounded is the gateway's own work before a health answer: the CPU time it spent during
      // the call, capped by the wall time. While the flood keeps it busy on an idle machine that is the
      // wall time; on a machine loaded by other work, time spent waiting for a core does not count,
      // while a gateway stuck on the flood still works a second and more before answering.
      let slowestHealthMs = 0;
      let slowestWallMs = 0;
      let flooding = true;
      const watch = (async () => {
        while (flooding) {
          const started = Date.now();
          const cpuBefore = cpuSeconds(pid);
          await cluster.client.health();
          const wallMs = Date.now() - started;
          slowestWallMs = Math.max(slowestWallMs, wallMs);
          slowestHealthMs = Math.max(slowestHealthMs, Math.min(wallMs, (cpuSeconds(pid) - cpuBefore) * 1000));
          peakRss = Math.max(peakRss, await vmRssBytes(pid));
          await sleep(200);
        }
      })();

      const perNode = 700;
      const deadline = Date.now() + 60_000;
      try {
        await Promise.all(
          flooders.map(async (node) => {
            for (let page = 0; page < perNode && Date.now() < deadline; page++) {
              const random = randomBytes(32 * 1000).toString('hex');
              const hashes = Array.from({ length: 1000 }, (_, i) => random.slice(i * 64, i * 64 + 64));
              await node.send({ type: 'inventory', hashes, done: false });
            }
            await node.send({ type: 'inventory', hashes: [], done: true });
          }),
        );
        await cluster.waitForOnline(3);
      } finally {
        flooding = false;
        await watch;
      }
      const MB = 1024 * 1024;
      console.log(`inventory flood: gateway RSS ${(baseline / MB).toFixed(0)} MB -> peak ${(peakRss / MB).toFixed(0)} MB, slowest /api/health ${slowestWallMs} ms (${slowestHealthMs.toFixed(0)} ms of gateway work)`);
      assert.ok(peakRss < 300 * MB, `gateway RSS peaked at ${(peakRss / MB).toFixed(0)} MB`);
      assert.ok(slowestHealthMs < 1000, `/api/health waited on ${slowestHealthMs.toFixed(0)} ms of gateway work`);

      const pending = (await cluster.client.health()).orphans.pending;
      assert.ok(pending > 0 && pending <= 300_000, `${pending} copies pending for three nodes`);
      await Promise.all(flooders.map((node) => node.close()));
      await waitFor(async () => (await cluster.client.health()).orphans.pending === 0, 30_000, 'what the flooders left pending dropped');

      const oversized = await liar(cluster, 'oversized');
      await oversized.send({ type: 'inventory', hashes: Array(INVENTORY_PAGE_SIZE + 1).fill('a'.repeat(64)), done: false });
      assert.deepEqual(await oversized.closed, { code: CLOSE.PROTOCOL_ERROR, reason: `inventory page of ${INVENTORY_PAGE_SIZE + 1} hashes exceeds ${INVENTORY_PAGE_SIZE}` });
      const again = await liar(cluster, 'again');
      await again.sendInventory([]);
      await again.sendInventory([]);
      assert.deepEqual(await again.closed, { code: CLOSE.PROTOCOL_ERROR, reason: 'inventory after its last page' });
    } finally {
      await cluster.stop();
    }
  });
});

test('a delete that misses an offline node leaves nothing pending for it: its next inventory has the copy collected', async () => {
  const cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--gc-grace', '1s'] });
  try {
    const files = await uploadSet(cluster, 1, SMALL, 1100);
    const [name] = [...files.keys()] as [string];
    const [hash] = (await chunkIdsOf(cluster, files)) as [string];
    const holds = async (id: string) => (await cluster.chunkFiles(id)).some((path) => path.endsWith(hash));
    const holder = (await Promise.all(['node1', 'node2', 'node3'].map(async (id) => ((await holds(id)) ? id : '')))).find(Boolean)!;
    await cluster.killNode(holder);
    await waitFor(async () => (await cluster.nodeStatus(holder)) === 'offline', 30_000, `${holder} offline`);
    await cluster.client.delete(name);
    assert.equal((await cluster.client.health()).orphans.pending, 0, 'nothing is kept for a node that is not there');

    cluster.startNode(holder);
    await cluster.waitForOnline(3);
    await waitFor(async () => !(await holds(holder)), 30_000, `the copy on ${holder} collected`);
    assert.equal((await cluster.copiesOnDisk(['node1', 'node2', 'node3'])).size, 0);
  } finally {
    await cluster.stop();
  }
});
