import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../sha256.ts';
import { PACKS_DIR } from './chunk-packs.ts';
import { chunkPath, DiskChunkStore, manifestPath } from './disk-chunk-store.ts';

const CAPACITY = 64 * 1024 * 1024;

test('a node directory written before packs (every chunk a file) opens with its chunks and manifests, and takes new chunks into packs', async () => {
  await withDir(async (dir) => {
    // The layout of the previous release, written as it wrote it: ab/cd/<hash>, manifests/ab/cd/<hash>.
    const old = chunk('old chunk');
    const oldManifest = chunk('old manifest');
    for (const [path, data] of [[chunkPath(dir, old.hash), old.data], [manifestPath(dir, oldManifest.hash), oldManifest.data]] as const) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
    }

    const store = await DiskChunkStore.open(dir, CAPACITY);
    const fresh = chunk('new chunk');
    await store.put(fresh.hash, fresh.data);
    assert.deepEqual((await store.list()).sort(), [old.hash, oldManifest.hash, fresh.hash].sort());
    assert.deepEqual(await store.listManifests(), [oldManifest.hash]);
    assert.deepEqual(await store.get(old.hash), old.data);
    assert.deepEqual(await store.get(oldManifest.hash), oldManifest.data);
    assert.equal((await readdir(join(dir, PACKS_DIR))).length, 1, 'the new chunk went to a pack');
    await store.close();

    const again = await DiskChunkStore.open(dir, CAPACITY);
    assert.deepEqual(await again.get(fresh.hash), fresh.data);
    await again.delete([old.hash, fresh.hash]);
    assert.deepEqual(await again.list(), [oldManifest.hash]);
    await again.close();
  });
});

test('a torn write at a pack\'s end is cut when the node opens, and every acknowledged chunk is kept', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY);
    const chunks = Array.from({ length: 20 }, (_, i) => chunk(`acknowledged ${i}`));
    await Promise.all(chunks.map((c) => store.put(c.hash, c.data, c === chunks[3] ? 'manifest' : 'chunk')));
    await store.close();
    const [pack] = await readdir(join(dir, PACKS_DIR));
    const path = join(dir, PACKS_DIR, pack!);
    const whole = (await stat(path)).size;
    // What a crash leaves of a batch that was being written: a header and part of its bytes.
    const torn = await readFile(path);
    await appendFile(path, torn.subarray(0, 100));

    const again = await DiskChunkStore.open(dir, CAPACITY);
    assert.equal((await stat(path)).size, whole);
    assert.deepEqual((await again.list()).sort(), chunks.map((c) => c.hash).sort());
    assert.deepEqual(await again.listManifests(), [chunks[3]!.hash]);
    const later = chunk('after the crash');
    await again.put(later.hash, later.data);
    await again.close();

    const third = await DiskChunkStore.open(dir, CAPACITY);
    for (const c of [...chunks, later]) assert.deepEqual(await third.get(c.hash), c.data);
    await third.close();
  });
});

test('a chunk rotted inside a pack is never returned, and stays dropped after reopening', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY);
    const rotting = chunk('rotting');
    const sound = chunk('sound');
    await store.put(rotting.hash, rotting.data);
    await store.put(sound.hash, sound.data);
    await store.close();
    const [pack] = await readdir(join(dir, PACKS_DIR));
    const path = join(dir, PACKS_DIR, pack!);
    const bytes = await readFile(path);
    bytes[bytes.indexOf(Buffer.from(rotting.data)) + 10] ^= 0xff;
    await writeFile(path, bytes);

    const again = await DiskChunkStore.open(dir, CAPACITY);
    await assert.rejects(again.get(rotting.hash), (err) => err instanceof ShoalError && err.code === 'CHUNK_CORRUPT');
    assert.deepEqual(await again.get(sound.hash), sound.data);
    await again.close();
    const third = await DiskChunkStore.open(dir, CAPACITY);
    assert.deepEqual(await third.list(), [sound.hash]);
    await third.close();
  });
});

test('a header rotted in the middle of a pack loses its own chunk only', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY);
    const chunks = Array.from({ length: 5 }, (_, i) => chunk(`in order ${i}`));
    for (const c of chunks) await store.put(c.hash, c.data);
    await store.close();
    const [pack] = await readdir(join(dir, PACKS_DIR));
    const path = join(dir, PACKS_DIR, pack!);
    const bytes = await readFile(path);
    // The third record's header: just before its payload.
    bytes[bytes.indexOf(Buffer.from(chunks[2]!.data)) - 20] ^= 0xff;
    await writeFile(path, bytes);

    const again = await DiskChunkStore.open(dir, CAPACITY);
    const kept = chunks.filter((_, i) => i !== 2);
    assert.deepEqual((await again.list()).sort(), kept.map((c) => c.hash).sort());
    const later = chunk('after the rot');
    await again.put(later.hash, later.data);
    await again.close();
    const third = await DiskChunkStore.open(dir, CAPACITY);
    for (const c of [...kept, later]) assert.deepEqual(await third.get(c.hash), c.data);
    await third.close();
  });
});

test('a pack deleted behind the node\'s back takes its chunks with it, and new chunks go to a pack that exists', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY);
    const gone = chunk('in the deleted pack');
    await store.put(gone.hash, gone.data);
    const vanished: string[] = [];
    store.onVanished((hashes) => vanished.push(...hashes));
    for (const pack of await readdir(join(dir, PACKS_DIR))) await rm(join(dir, PACKS_DIR, pack));

    assert.deepEqual(await store.list(), []);
    assert.deepEqual(vanished, [gone.hash]);
    const later = chunk('after the deletion');
    await store.put(later.hash, later.data);
    await store.close();
    const again = await DiskChunkStore.open(dir, CAPACITY);
    assert.deepEqual(await again.list(), [later.hash]);
    assert.deepEqual(await again.get(later.hash), later.data);
    await again.close();
  });
});

test('packs mostly deleted are compacted: their space is freed and what they still held reads back', async () => {
  await withDir(async (dir) => {
    const layout = { packBytes: 64 * 1024 };
    const store = await DiskChunkStore.open(dir, CAPACITY, layout);
    const chunks = Array.from({ length: 200 }, (_, i) => chunk(`chunk ${i} `, 400));
    for (const c of chunks) await store.put(c.hash, c.data, c === chunks[1] ? 'manifest' : 'chunk');
    const packsBefore = (await readdir(join(dir, PACKS_DIR))).length;
    assert.ok(packsBefore > 3, `${packsBefore} packs`);
    const kept = chunks.filter((_, i) => i % 10 === 1);
    await store.delete(chunks.filter((c) => !kept.includes(c)).map((c) => c.hash));
    await store.close();
    assert.ok((await readdir(join(dir, PACKS_DIR))).length < packsBefore / 2, 'the emptied packs are gone');

    const again = await DiskChunkStore.open(dir, CAPACITY, layout);
    assert.deepEqual((await again.list()).sort(), kept.map((c) => c.hash).sort());
    assert.deepEqual(await again.listManifests(), [chunks[1]!.hash]);
    for (const c of kept) assert.deepEqual(await again.get(c.hash), c.data);
    await again.close();
  });
});

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-packs-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function chunk(text: string, repeat = 100): { hash: string; data: Uint8Array } {
  const data = new TextEncoder().encode(text.repeat(repeat));
  return { hash: sha256Hex(data), data };
}
