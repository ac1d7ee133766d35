import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sha256Hex } from '../../sha256.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { FAST_REPAIR, fullyReplicated, randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';

const MiB = 1024 * 1024;
const NODES = ['node1', 'node2', 'node3'];
const MARKER = Buffer.from('SHOAL-SECRET-MARKER-7f3a9c');

/** Every file under `dir`, at any depth. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A file with the marker at its start, inside, across the first chunk boundary and at its end. */
function secretFile(): Buffer {
  const data = Buffer.from(randomBytesSeeded(5 * MiB, 61));
  for (const at of [0, 1234, 4 * MiB - 10, data.length - MARKER.length]) MARKER.copy(data, at);
  return data;
}

describe('encryption at rest on disk nodes', () => {
  let cluster: TestCluster;
  const data = secretFile();

  before(async () => {
    cluster = await TestCluster.start({ nodes: 3, gatewayArgs: FAST_REPAIR });
    await cluster.client.upload('secret.bin', data);
  });
  after(() => cluster.stop());

  test('a marker uploaded is found in no node file, chunks and manifests alike, and reads back whole', async () => {
    const files = (await Promise.all(NODES.map((id) => filesUnder(cluster.nodeDir(id))))).flat();
    assert.ok(files.length >= 6, `${files.length} files on the nodes`);
    for (const path of files) assert.equal((await readFile(path)).indexOf(MARKER), -1, `${path} holds the marker`);
    assert.ok(Buffer.from(await (await cluster.client.download('secret.bin')).arrayBuffer()).equals(data));
  });

  test('identical content still deduplicates: the same file again stores no new chunk', async () => {
    const before = (await Promise.all(NODES.map((id) => cluster.chunkFiles(id)))).flat().sort();
    await cluster.client.upload('secret-copy.bin', data);
    const after = (await Promise.all(NODES.map((id) => cluster.chunkFiles(id)))).flat().sort();
    assert.deepEqual(after, before);
  });

  test('chunk files, metadata and secrets are the owner\'s only: files 0600 in directories 0700', async () => {
    const dataFiles = ['metadata.db', 'metadata.db-wal', 'metadata.db-shm', 'data-key', 'manifest-key', 'join-secret', 'admin-token'];
    for (const name of dataFiles) assert.equal((await stat(join(cluster.dataDir, name))).mode & 0o777, 0o600, name);
    assert.equal((await stat(cluster.dataDir)).mode & 0o777, 0o700, 'the data directory');
    for (const id of NODES) {
      const entries = await readdir(cluster.nodeDir(id), { withFileTypes: true, recursive: true });
      for (const entry of entries) {
        const path = join(entry.parentPath, entry.name);
        if (!/^[0-9a-f]{2}$|^manifests$|^[0-9a-f]{64}$/.test(entry.name)) continue;
        assert.equal((await stat(path)).mode & 0o777, entry.isDirectory() ? 0o700 : 0o600, path);
      }
      assert.equal((await stat(cluster.nodeDir(id))).mode & 0o777, 0o700, cluster.nodeDir(id));
    }
  });

  test('a stored ciphertext tampered with is caught at download, never served, and repaired', async () => {
    const [first, second] = chunkIds(cluster.dataDir, data, 4 * MiB);
    const holders = async (hash: string) => {
      const held = await Promise.all(NODES.map(async (id) => ((await cluster.chunkFiles(id)).find((p) => p.endsWith(hash)) ? id : null)));
      return held.filter((id): id is string => id !== null);
    };
    const firstHolders = await holders(first!);
    const secondHolders = await holders(second!);
    assert.equal(firstHolders.length, 2);
    assert.equal(secondHolders.length, 2);
    // Two pairs out of three nodes share one: the liar, who rewrites its ciphertext of both chunks and still
    // answers for them, with other bytes.
    const liar = firstHolders.find((id) => secondHolders.includes(id))!;
    for (const hash of [first!, second!]) {
      const path = (await cluster.chunkFiles(liar)).find((p) => p.endsWith(hash))!;
      const tampered = await readFile(path);
      tampered[100]! ^= 0x55;
      await writeFile(path, tampered);
    }
    // The honest holders away, the liar's copies are the only ones a download can be served from (the gateway
    // would otherwise ask the quicker replica, never reaching them).
    const honest = [...new Set([...firstHolders, ...secondHolders])].filter((id) => id !== liar);
    await Promise.all(honest.map((id) => cluster.killNode(id)));
    await waitFor(async () => (await cluster.client.nodes()).every((n) => !honest.includes(n.id) || !n.linked), 30_000, 'the honest holders unlinked');
    // A range is not hash-checked by the node: the segment's tag is what catches it.
    await assert.rejects(cluster.client.download('secret.bin', { range: { start: 90, end: 120 } }), { code: 'CHUNK_UNAVAILABLE', message: new RegExp(`${liar}: CHUNK_CORRUPT`) });
    // The second chunk whole: asked for as a span, which the tags catch, then again whole, which the
    // node hashes: it drops its rotten copy itself, as an honest node does.
    await assert.rejects(cluster.client.download('secret.bin', { range: { start: 4 * MiB, end: data.length - 1 } }), {
      code: 'CHUNK_UNAVAILABLE',
      message: new RegExp(`${liar}: CHUNK_(CORRUPT|NOT_FOUND)`),
    });
    assert.ok(!(await cluster.chunkFiles(liar)).some((p) => p.endsWith(second!)), 'the node dropped its rotten copy of the chunk read whole');
    for (const id of honest) cluster.startNode(id);
    await cluster.waitForOnline(3, 40_000);
    assert.ok(Buffer.from(await (await cluster.client.download('secret.bin')).arrayBuffer()).equals(data));
    const range2 = await cluster.client.download('secret.bin', { range: { start: 90, end: 120 } });
    assert.ok(Buffer.from(await range2.arrayBuffer()).equals(data.subarray(90, 121)), 'range download');
    await waitFor(
      async () => {
        if (!(await fullyReplicated(cluster))) return false;
        for (const hash of [first!, second!]) {
          const now = (await Promise.all(NODES.map((id) => cluster.chunkFiles(id)))).flat().filter((p) => p.endsWith(hash));
          const intact = await Promise.all(now.map(async (path) => sha256Hex(await readFile(path)) === hash));
          if (intact.filter(Boolean).length < 2) return false;
        }
        return true;
      },
      30_000,
      'two intact copies of each tampered chunk again',
    );
    assert.ok(Buffer.from(await (await cluster.client.download('secret.bin')).arrayBuffer()).equals(data));
  });
});
