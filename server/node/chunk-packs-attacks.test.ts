import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../sha256.ts';
import { PACKS_DIR } from './chunk-packs.ts';
import { DiskChunkStore } from './disk-chunk-store.ts';

const CAPACITY = 64 * 1024 * 1024;
/** Small packs, so a few 4 KiB chunks seal one and deleting them compacts it. */
const LAYOUT = { packBytes: 32 * 1024 };

test('a chunk deleted and stored again survives the compaction of the pack that holds its removal, across a restart', async () => {
  // Convergent encryption makes the same small file the same chunk: a 1 KiB file uploaded, deleted
  // and uploaded again is this sequence of puts and deletes on its nodes.
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    const again = chunk('uploaded, deleted, uploaded again');
    const doomed = await removalInSealedPack(store, again);
    assert.ok((await readdir(join(dir, PACKS_DIR))).length >= 3, 'the chunk goes again into a later pack');
    await store.put(again.hash, again.data);
    await store.delete(doomed);
    assert.deepEqual(await store.get(again.hash), again.data);
    await store.close();

    const reopened = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    assert.ok((await reopened.list()).includes(again.hash), 'the acknowledged chunk is still held after a restart');
    assert.deepEqual(await reopened.get(again.hash), again.data);
    await reopened.close();
  });
});

test('a chunk stored again while compaction runs is not removed by a removal compaction carries past it', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    const again = chunk('stored again during compaction');
    const doomed = await removalInSealedPack(store, again);
    // The deletion starts compacting the pack with the chunk's removal; the put joins while it runs.
    await store.delete(doomed);
    await store.put(again.hash, again.data);
    await store.close();

    const reopened = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    assert.deepEqual(await reopened.get(again.hash), again.data);
    await reopened.close();
  });
});

/**
 * `c` put in a first pack that stays mostly live (never compacted, so its removal must outlive the
 * pack it is in), then deleted in a second pack sealed with chunks whose deletion (the hashes
 * returned) compacts it.
 */
async function removalInSealedPack(store: DiskChunkStore, c: { hash: string; data: Uint8Array }): Promise<string[]> {
  await store.put(c.hash, c.data);
  for (const kept of fillers('kept', 12)) await store.put(kept.hash, kept.data);
  await store.delete([c.hash]);
  const doomed = fillers('doomed', 12);
  for (const d of doomed) await store.put(d.hash, d.data);
  return doomed.map((d) => d.hash);
}

test('deleting packed chunks frees their space however many were deleted before: the removals do not pile up', async () => {
  await withDir(async (dir) => {
    const layout = { packBytes: 8 * 1024 };
    const store = await DiskChunkStore.open(dir, CAPACITY, layout);
    // Long-lived small files: the oldest pack stays mostly live for good.
    const kept = fillers('kept', 24, 40);
    await Promise.all(kept.map((c) => store.put(c.hash, c.data)));
    // Small files come and go: what is on disk should stay about what is held, not grow with
    // every deletion ever made (48 bytes each, rewritten by every compaction).
    for (let round = 0; round < 100; round++) {
      const passing = fillers(`passing ${round}`, 12, 40);
      await Promise.all(passing.map((c) => store.put(c.hash, c.data)));
      await store.delete(passing.map((c) => c.hash));
    }
    await store.close();
    const onDisk = await packBytes(dir);
    assert.ok(onDisk < 4 * layout.packBytes, `${onDisk} bytes of packs hold ${kept.reduce((sum, c) => sum + c.data.length, 0)} bytes of chunks`);

    const reopened = await DiskChunkStore.open(dir, CAPACITY, layout);
    assert.deepEqual((await reopened.list()).sort(), kept.map((c) => c.hash).sort());
    await reopened.close();
  });
});

test('a removal still masking a put in an older pack goes along when its own pack is compacted', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    const deleted = chunk('deleted from the oldest pack');
    await store.put(deleted.hash, deleted.data);
    for (const c of fillers('kept', 12)) await store.put(c.hash, c.data);
    await store.delete([deleted.hash]);
    const doomed = fillers('doomed', 12);
    for (const c of doomed) await store.put(c.hash, c.data);
    const later = chunk('in the pack after');
    await store.put(later.hash, later.data);
    await store.delete(doomed.map((c) => c.hash));
    await store.close();

    const reopened = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    assert.ok(!(await reopened.list()).includes(deleted.hash), 'the deleted chunk stays deleted');
    assert.deepEqual(await reopened.get(later.hash), later.data);
    await reopened.close();
  });
});

test('a chunk whose header rotted while the node ran is reported gone once its pack is compacted, not failed on a closed file', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY, LAYOUT);
    const rotted = chunk('header rots under a running node', 400);
    await store.put(rotted.hash, rotted.data);
    const doomed = fillers('doomed', 12);
    for (const c of doomed) await store.put(c.hash, c.data);
    const later = chunk('in the pack after');
    await store.put(later.hash, later.data);
    const [first] = (await readdir(join(dir, PACKS_DIR))).sort();
    const path = join(dir, PACKS_DIR, first!);
    const bytes = await readFile(path);
    bytes[bytes.indexOf(Buffer.from(rotted.data)) - 20] ^= 0xff;
    await writeFile(path, bytes);
    await store.delete(doomed.map((c) => c.hash));
    while ((await readdir(join(dir, PACKS_DIR))).includes(first!)) await new Promise((resolve) => setTimeout(resolve, 10));
    // What a gateway's read (or a scrub) gets: a copy it can mark lost and repair elsewhere.
    await assert.rejects(store.get(rotted.hash), (err: ShoalError) => err.code === 'CHUNK_NOT_FOUND');
    assert.deepEqual(await store.get(later.hash), later.data);
    await store.close();
  });
});

async function packBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const name of await readdir(join(dir, PACKS_DIR))) sum += (await stat(join(dir, PACKS_DIR, name))).size;
  return sum;
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-packs-attack-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fillers(label: string, count: number, repeat = 400): Array<{ hash: string; data: Uint8Array }> {
  return Array.from({ length: count }, (_, i) => chunk(`${label} ${i} `, repeat));
}

function chunk(text: string, repeat = 100): { hash: string; data: Uint8Array } {
  const data = new TextEncoder().encode(text.repeat(repeat));
  return { hash: sha256Hex(data), data };
}
