import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { chunkStoreContract } from '../../shared/chunk-store.contract.ts';
import { ShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../sha256.ts';
import { VerifiedChunkStore } from '../../shared/verified-chunk-store.ts';
import { chunkPath, DiskChunkBackend, DiskChunkStore } from './disk-chunk-store.ts';

const CAPACITY = 1024 * 1024;
/** Every chunk a file of its own, as before packs. */
const FILES = { packBelow: 0 };

for (const c of chunkStoreContract(async (capacity) => {
  const dir = await tempDir();
  return {
    store: await DiskChunkStore.open(dir, capacity, FILES),
    backend: new DiskChunkBackend(dir, FILES),
    reopen: () => DiskChunkStore.open(dir, capacity, FILES),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
})) {
  test(`DiskChunkStore: ${c.name}`, c.run);
}

// The contract's chunks are small, so here they go to packs. Packs are the node's own index, not
// files a second backend could change: the store and the test share one backend.
for (const c of chunkStoreContract(async (capacity) => {
  const dir = await tempDir();
  const backend = new DiskChunkBackend(dir);
  return {
    store: new VerifiedChunkStore(backend, capacity, sha256Hex),
    backend,
    reopen: async () => {
      await backend.close();
      return DiskChunkStore.open(dir, capacity);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
})) {
  test(`DiskChunkStore with packs: ${c.name}`, c.run);
}

test('DiskChunkStore: open removes temp files left by a crashed put', async () => {
  await withDir(async (dir) => {
    const { hash, data } = chunk('kept');
    const crashed = chunk('crashed');
    await (await DiskChunkStore.open(dir, CAPACITY)).put(hash, data);
    const leftover = `${chunkPath(dir, crashed.hash)}.${crypto.randomUUID()}.tmp`;
    await mkdir(dirname(leftover), { recursive: true });
    await writeFile(leftover, crashed.data.subarray(0, 3));

    const store = await DiskChunkStore.open(dir, CAPACITY);
    assert.deepEqual(await readdir(dirname(leftover)), []);
    assert.deepEqual(await store.list(), [hash]);
    assert.deepEqual(await store.stats(), { usedBytes: data.length, chunkCount: 1 });
  });
});

test('DiskChunkStore: files that are not chunks in their place are ignored and left alone', async () => {
  await withDir(async (dir) => {
    const { hash, data } = chunk('real');
    const misplaced = chunk('misplaced').hash;
    const strays = [
      join(dir, 'README'),
      join(dir, 'ab', 'cd', 'notes.tmp'),
      join(dir, 'ab', 'cd', misplaced),
      join(dir, misplaced.slice(0, 2), misplaced.slice(2, 4), misplaced.toUpperCase()),
    ];
    for (const path of strays) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, 'not a chunk');
    }
    await (await DiskChunkStore.open(dir, CAPACITY)).put(hash, data);

    const store = await DiskChunkStore.open(dir, CAPACITY);
    assert.deepEqual(await store.list(), [hash]);
    assert.deepEqual(await store.stats(), { usedBytes: data.length, chunkCount: 1 });
    for (const path of strays) assert.equal(await readFile(path, 'utf8'), 'not a chunk');
  });
});

test('DiskChunkStore: a chunk corrupted while the store was closed is never returned', async () => {
  await withDir(async (dir) => {
    const { hash, data } = chunk('rotting');
    await (await DiskChunkStore.open(dir, CAPACITY, FILES)).put(hash, data);
    await flipFirstByte(chunkPath(dir, hash));

    const store = await DiskChunkStore.open(dir, CAPACITY, FILES);
    assert.equal(await store.has(hash), true, 'open indexes without reading every chunk');
    await assert.rejects(store.get(hash), (err) => err instanceof ShoalError && err.code === 'CHUNK_CORRUPT');
    assert.equal(await store.has(hash), false);
    assert.deepEqual(await readdir(dirname(chunkPath(dir, hash))), []);
    assert.deepEqual(await store.stats(), { usedBytes: 0, chunkCount: 0 });
  });
});

test('DiskChunkStore: concurrent puts of a new chunk write it once and count it once', async () => {
  await withDir(async (dir) => {
    const { hash, data } = chunk('twice');
    const store = await DiskChunkStore.open(dir, CAPACITY, FILES);
    await Promise.all([store.put(hash, data), store.put(hash, data), store.put(hash, data)]);
    assert.deepEqual(await store.stats(), { usedBytes: data.length, chunkCount: 1 });
    assert.deepEqual(await readdir(dirname(chunkPath(dir, hash))), [hash]);
  });
});

test('DiskChunkStore: listing while puts are writing leaves their temp files alone', async () => {
  await withDir(async (dir) => {
    const store = await DiskChunkStore.open(dir, CAPACITY);
    const chunks = Array.from({ length: 100 }, (_, i) => chunk(`busy ${i}`));
    let writing = true;
    const puts = Promise.all(chunks.map((c) => store.put(c.hash, c.data))).finally(() => (writing = false));
    while (writing) await store.list();
    await puts;
    assert.deepEqual((await store.list()).sort(), chunks.map((c) => c.hash).sort());
  });
});

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'shoal-disk-store-'));
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function chunk(text: string): { hash: string; data: Uint8Array } {
  const data = new TextEncoder().encode(text.repeat(100));
  return { hash: sha256Hex(data), data };
}

async function flipFirstByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[0] ^= 0xff;
  await writeFile(path, bytes);
}
