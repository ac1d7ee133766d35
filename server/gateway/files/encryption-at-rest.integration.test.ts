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
    const [first] = chunkIds(cluster.dataDir, data, 4 * MiB);
    const copies = (await Promise.all(NODES.map((id) => cluster.chunkFiles(id)))).flat().filter((p) => p.endsWith(first!));
    assert.equal(copies.length, 2);
    // A node that rewrote the ciphertext: it still answers for the chunk, with other bytes.
    const tampered = await readFile(copies[0]!);
    tampered[100]! ^= 0x55;
    await writeFile(copies[0]!, tampered);
    for (let i = 0; i < 6; i++) {
      const whole = await cluster.client.download('secret.bin');
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data), 'whole download');
      // A range is not hash-checked by the node: the segment's tag is what catches it.
      const range = await cluster.client.download('secret.bin', { range: { start: 90, end: 120 } });
      assert.equal(range.status, 206);
      assert.ok(Buffer.from(await range.arrayBuffer()).equals(data.subarray(90, 121)), 'range download');
    }
    await waitFor(
      async () => {
        if (!(await fullyReplicated(cluster))) return false;
        const now = (await Promise.all(NODES.map((id) => cluster.chunkFiles(id)))).flat().filter((p) => p.endsWith(first!));
        const intact = await Promise.all(now.map(async (path) => sha256Hex(await readFile(path)) === first));
        return intact.filter(Boolean).length >= 2;
      },
      30_000,
      'two intact copies of the tampered chunk again',
    );
    assert.ok(Buffer.from(await (await cluster.client.download('secret.bin')).arrayBuffer()).equals(data));
  });
});
