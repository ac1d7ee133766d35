import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { FAST_REPAIR, randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';

const MiB = 1024 * 1024;
const NODES = ['node1', 'node2', 'node3', 'node4', 'node5'];

/** An upload whose body stops after `head` bytes (a multiple of 1 MiB) until `finish` is called, as a slow client's would. */
function pausedUpload(cluster: TestCluster, name: string, data: Uint8Array, head: number) {
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === head) await resumed;
      const piece = data.subarray(sent, Math.min(sent + MiB, data.length));
      controller.enqueue(piece.slice());
      sent += piece.length;
      if (sent === data.length) controller.close();
    },
  });
  const result = cluster.client.upload(name, body).then(
    (info) => ({ ok: true as const, info }),
    (err: unknown) => ({ ok: false as const, err: err as ShoalError }),
  );
  return { result, finish: resume };
}

/** hash -> nodes holding it on disk, for the chunks of `data` that have reached the nodes. */
async function placement(cluster: TestCluster, data: Uint8Array): Promise<Map<string, string[]>> {
  const wanted = new Set(chunkIds(cluster.dataDir, data, 4 * MiB));
  const where = new Map<string, string[]>();
  for (const id of NODES) {
    for (const path of await cluster.chunkFiles(id)) {
      const hash = path.slice(-64);
      if (wanted.has(hash)) where.set(hash, [...(where.get(hash) ?? []), id]);
    }
  }
  return where;
}

test('removal during an upload: nodes holding its uncommitted copies are not safe to remove, and forcing it never yields a 201 for chunks that exist nowhere', async () => {
  const cluster = await TestCluster.start({ nodes: 5, gatewayArgs: FAST_REPAIR });
  try {
    const data = randomBytesSeeded(40 * MiB, 9);
    const upload = pausedUpload(cluster, 'slow.bin', data, 20 * MiB);
    await waitFor(async () => [...(await placement(cluster, data)).values()].filter((ids) => ids.length === 2).length >= 4, 30_000, 'the first chunks on their nodes');
    const [hash, pair] = [...(await placement(cluster, data))].find(([, ids]) => ids.length === 2)!;

    const nodes = await cluster.client.nodes();
    for (const id of pair) {
      const node = nodes.find((n) => n.id === id)!;
      assert.ok(node.recordedChunks > 0 && node.atRiskChunks > 0, `${id} counts the upload's copies: ${JSON.stringify(node)}`);
      await assert.rejects(cluster.client.removeNode(id), (err: ShoalError) => err.code === 'NODE_NOT_SAFE_TO_REMOVE', `${id} is not safe to remove`);
    }

    // The operator insists: both nodes holding chunk `hash` are removed before the upload ends.
    for (const id of pair) await cluster.client.removeNode(id, { force: true });
    upload.finish();
    const outcome = await upload.result;
    assert.equal(outcome.ok, false, `no 201 for a file whose chunk ${hash.slice(0, 12)} exists nowhere`);
    assert.equal(!outcome.ok && outcome.err.code, 'INSUFFICIENT_NODES');
    await assert.rejects(cluster.client.download('slow.bin'), (err: ShoalError) => err.code === 'FILE_NOT_FOUND');

    // Without force: the upload completes, drain empties the node, and then removal loses nothing.
    const second = randomBytesSeeded(24 * MiB, 10);
    const patient = pausedUpload(cluster, 'patient.bin', second, 12 * MiB);
    await waitFor(async () => (await placement(cluster, second)).size >= 2, 30_000, 'the second upload under way');
    const holder = [...(await placement(cluster, second)).values()][0]![0]!;
    await cluster.client.drainNode(holder);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const drained = (await cluster.client.nodes()).find((n) => n.id === holder)!;
    assert.ok(drained.recordedChunks > 0, 'a drained node still holding copies of an upload in flight is not reported empty');
    patient.finish();
    const done = await patient.result;
    assert.equal(done.ok && done.info.sha256, sha256Hex(second));
    await waitFor(async () => (await cluster.client.nodes()).find((n) => n.id === holder)!.recordedChunks === 0, 30_000, `${holder} drained`);
    await cluster.client.removeNode(holder);
    assert.equal(sha256Hex(new Uint8Array(await (await cluster.client.download('patient.bin')).arrayBuffer())), sha256Hex(second));
  } finally {
    await cluster.stop();
  }
});
