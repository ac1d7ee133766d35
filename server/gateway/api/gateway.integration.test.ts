import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';
import { sha256Hex } from '../../sha256.ts';

const MiB = 1024 * 1024;

async function download(cluster: TestCluster, name: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; res: Response }> {
  const res = await cluster.fetch(cluster.client.fileUrl(name), { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), res };
}


describe('gateway with three disk nodes', () => {
  let cluster: TestCluster;
  const big = randomBytesSeeded(50 * MiB + 12345, 7);

  before(async () => {
    cluster = await TestCluster.start({ nodes: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('a 50 MiB file uploads and downloads byte-identical, stored as 4 MiB chunks on 2 replicas each', async () => {
    const info = await cluster.client.upload('data/big.bin', big);
    assert.equal(info.size, big.length);
    assert.equal(info.sha256, sha256Hex(big));
    assert.equal(info.chunks, Math.ceil(big.length / (4 * MiB)));
    assert.equal(info.replicas, 2);
    const { status, body, res } = await download(cluster, 'data/big.bin');
    assert.equal(status, 200);
    assert.equal(res.headers.get('etag'), `"${sha256Hex(big)}"`);
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    assert.ok(body.equals(big), 'downloaded bytes differ');
    const onDisk = (await Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.chunkFiles(id)))).flat();
    assert.equal(onDisk.length, info.chunks * 2, 'every chunk has exactly two replicas on disk');
    const perChunk = new Map<string, number>();
    for (const path of onDisk) perChunk.set(path.slice(-64), (perChunk.get(path.slice(-64)) ?? 0) + 1);
    assert.ok([...perChunk.values()].every((n) => n === 2));
  });

  test('Range requests return exactly the bytes asked for, across chunk boundaries', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      [`bytes=${4 * MiB - 10}-${4 * MiB + 9}`, 4 * MiB - 10, 4 * MiB + 9],
      [`bytes=${3 * MiB}-${11 * MiB}`, 3 * MiB, 11 * MiB],
      ['bytes=-500', big.length - 500, big.length - 1],
      [`bytes=${big.length - 3}-`, big.length - 3, big.length - 1],
      [`bytes=${big.length - 3}-${big.length + 1000}`, big.length - 3, big.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const { status, body, res } = await download(cluster, 'data/big.bin', { Range: range });
      assert.equal(status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${big.length}`, range);
      assert.ok(body.equals(big.subarray(start, end + 1)), `bytes of ${range}`);
    }
    const etag = `"${sha256Hex(big)}"`;
    const resumed = await download(cluster, 'data/big.bin', { Range: 'bytes=10-19', 'If-Range': etag });
    assert.equal(resumed.status, 206);
    const otherVersion = await download(cluster, 'data/big.bin', { Range: 'bytes=10-19', 'If-Range': '"an-older-version"' });
    assert.equal(otherVersion.status, 200, 'a Range for another version gets the whole file');
    assert.equal(otherVersion.body.length, big.length);
  });

  test('HEAD gives the headers without a body', async () => {
    const res = await cluster.fetch(cluster.client.fileUrl('data/big.bin'), { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(big.length));
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  test('uploading the same bytes again stores no new chunks', async () => {
    const before = (await Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.chunkFiles(id)))).flat().sort();
    await cluster.client.upload('data/big-copy.bin', big);
    await cluster.client.upload('data/big.bin', big);
    const after = (await Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.chunkFiles(id)))).flat().sort();
    assert.deepEqual(after, before);
    const files = await cluster.client.list();
    assert.deepEqual(files.map((f) => f.name).sort(), ['data/big-copy.bin', 'data/big.bin']);
  });

  test('a flipped byte in a chunk file on disk never reaches the reader', async () => {
    const data = randomBytesSeeded(3 * MiB, 11);
    await cluster.client.upload('flip.bin', data);
    const [hash] = chunkIds(cluster.dataDir, data, 4 * MiB);
    const copies = (await Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.chunkFiles(id)))).flat().filter((p) => p.endsWith(hash!));
    assert.equal(copies.length, 2);
    const bytes = await readFile(copies[0]!);
    bytes[1000] ^= 0x01;
    await writeFile(copies[0]!, bytes);
    for (let i = 0; i < 4; i++) {
      const { status, body } = await download(cluster, 'flip.bin');
      assert.equal(status, 200);
      assert.ok(body.equals(data), 'download returned corrupted bytes');
    }
    // Downloads may all have been served by the good copy; a scrub finds the bad one, and it is replaced by
    // a good one elsewhere (later tests kill nodes and count on two).
    await cluster.client.scrub();
    const intactCopies = async () => {
      const paths = (await Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.chunkFiles(id)))).flat().filter((p) => p.endsWith(hash!));
      const intact = await Promise.all(paths.map(async (p) => sha256Hex(await readFile(p)) === hash));
      return intact.filter(Boolean).length;
    };
    await waitFor(async () => (await intactCopies()) === 2, 30_000, 'two intact copies of the flipped chunk again');
  });

  test('errors are JSON with a stable code: 404, 416, 400', async () => {
    const missing = await download(cluster, 'no/such/file');
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body.toString()).error.code, 'FILE_NOT_FOUND');
    const range = await download(cluster, 'data/big.bin', { Range: `bytes=${big.length}-` });
    assert.equal(range.status, 416);
    assert.equal(range.res.headers.get('content-range'), `bytes */${big.length}`);
    assert.equal(range.res.headers.get('accept-ranges'), 'bytes', 'a 416 still describes the file');
    assert.match(range.res.headers.get('etag') ?? '', /^"[0-9a-f]{64}"$/);
    assert.match(range.res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(JSON.parse(range.body.toString()).error.code, 'BAD_RANGE');
    for (const bad of ['a%2F%2Fb', 'x%2F..%2Fy', 'ctl%01char', 'back%5Cslash']) {
      const res = await cluster.fetch(`/api/files/${bad}`, { method: 'PUT', body: 'x' });
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_NAME', bad);
    }
    const unknownRoute = await cluster.fetch(`/api/nope`);
    assert.equal(unknownRoute.status, 404);
  });

  test('DELETE removes the file and the chunks no other file needs', async () => {
    const data = randomBytesSeeded(5 * MiB, 23);
    await cluster.client.upload('temp.bin', data);
    const [firstChunk] = chunkIds(cluster.dataDir, data, 4 * MiB);
    const holders = async () => (await Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.chunkFiles(id)))).flat().filter((p) => p.endsWith(firstChunk!));
    assert.equal((await holders()).length, 2);
    const res = await cluster.fetch(cluster.client.fileUrl('temp.bin'), { method: 'DELETE' });
    assert.equal(res.status, 204);
    assert.equal((await holders()).length, 0);
    await assert.rejects(cluster.client.stat('temp.bin'), (err: unknown) => err instanceof ShoalError && err.code === 'NOT_FOUND');
    const again = await cluster.fetch(cluster.client.fileUrl('temp.bin'), { method: 'DELETE' });
    assert.equal(again.status, 404);
  });

  test('SIGKILL of a node: offline within 15 s, every file still downloads; restarted, it returns with its inventory', async () => {
    const files = await cluster.client.list();
    const heldBefore = (await cluster.chunkFiles('node2')).length + (await cluster.manifestFiles('node2')).length;
    const killedAt = Date.now();
    await cluster.killNode('node2');
    await waitFor(async () => (await cluster.nodeStatus('node2')) === 'offline', 30_000, 'node2 offline');
    assert.ok(Date.now() - killedAt < 15_000);
    for (const file of files) {
      const { status, body } = await download(cluster, file.name);
      assert.equal(status, 200, file.name);
      assert.equal(sha256Hex(body), file.sha256, file.name);
    }
    assert.ok((await cluster.client.list()).some((f) => f.health === 'degraded'));
    cluster.startNode('node2');
    await waitFor(async () => (await cluster.nodeStatus('node2')) === 'online', 30_000, 'node2 back online');
    const node2 = (await cluster.client.nodes()).find((n) => n.id === 'node2')!;
    assert.equal(node2.chunkCount, heldBefore);
    await waitFor(async () => (await cluster.client.list()).every((f) => f.health === 'ok'), 30_000, 'every file healthy again');
  });

  test('with fewer nodes online than replicas, PUT and DELETE are 503 INSUFFICIENT_NODES and no file appears or goes', async () => {
    await cluster.killNode('node1');
    await cluster.killNode('node3');
    await waitFor(async () => (await cluster.client.nodes()).filter((n) => n.status === 'online').length === 1, 30_000, 'one node online');
    const res = await cluster.fetch(cluster.client.fileUrl('refused.bin'), { method: 'PUT', body: randomBytesSeeded(MiB, 3) });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'INSUFFICIENT_NODES');
    assert.ok(!(await cluster.client.list()).some((f) => f.name === 'refused.bin'));
    // A deletion is written to R nodes like a version, so it is refused the same way and deletes nothing.
    const kept = await cluster.fetch(cluster.client.fileUrl('data/big.bin'), { method: 'DELETE' });
    assert.equal(kept.status, 503);
    assert.ok((await cluster.client.list()).some((f) => f.name === 'data/big.bin'));
    const health = await cluster.client.health();
    assert.equal(health.nodesOnline, 1);
    assert.notEqual(health.status, 'ok');
  });
});

describe('liveness without a close', () => {
  test('a node that stops answering pings is marked offline after the configured interval', async () => {
    const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: ['--heartbeat-ms', '300', '--offline-after-ms', '1200'] });
    try {
      const node = cluster.nodes.get('node1')!;
      assert.equal(await cluster.nodeStatus('node1'), 'online');
      // Frozen, not killed: its socket stays open, so only missing pongs can reveal it.
      node.kill('SIGSTOP');
      await waitFor(async () => (await cluster.nodeStatus('node1')) === 'offline', 30_000, 'frozen node1 offline');
      assert.equal(await cluster.nodeStatus('node2'), 'online');
      node.kill('SIGCONT');
      await waitFor(async () => (await cluster.nodeStatus('node1')) === 'online', 30_000, 'node1 reconnects after thawing');
    } finally {
      await cluster.stop();
    }
  });

  test('a file over --max-file-size is refused with 413 and leaves nothing behind', async () => {
    const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: ['--max-file-size', '1MiB'] });
    try {
      const declared = await cluster.fetch(cluster.client.fileUrl('big.bin'), { method: 'PUT', body: randomBytesSeeded(2 * 1024 * 1024, 1) });
      assert.equal(declared.status, 413);
      assert.equal(((await declared.json()) as { error: { code: string } }).error.code, 'FILE_TOO_LARGE');
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(randomBytesSeeded(512 * 1024, i + 5));
          c.close();
        },
      });
      await assert.rejects(cluster.client.upload('streamed.bin', stream), (err: unknown) => err instanceof ShoalError && err.code === 'FILE_TOO_LARGE');
      assert.deepEqual(await cluster.client.list(), []);
    } finally {
      await cluster.stop();
    }
  });
});
