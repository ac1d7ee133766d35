import type { ChunkStore } from './chunk-store.ts';
import { ShoalError } from './errors.ts';
import { sha256Hex } from './hash.ts';
import type { ChunkBackend } from './verified-chunk-store.ts';

/**
 * The behaviour every ChunkStore must show. It is plain async functions rather than calls into a
 * test framework, so the same cases run under node:test for disk and memory stores and inside a
 * real browser page for the IndexedDB store.
 */
export interface ChunkStoreHarness {
  store: ChunkStore;
  /** The store's storage reached around it, to damage or remove chunks behind its back. */
  backend: ChunkBackend;
  /** Opens the same storage afresh, as after a process restart; absent for stores that forget. */
  reopen?: () => Promise<ChunkStore>;
  cleanup: () => Promise<void>;
}

export type ChunkStoreFactory = (capacityBytes: number) => Promise<ChunkStoreHarness>;

export interface ContractCase {
  name: string;
  run: () => Promise<void>;
}

/** A case that runs `body` on a fresh harness from `factory`, cleaned up however the case ends. */
export function contractCase<H extends { cleanup: () => Promise<void> }>(factory: () => Promise<H>, name: string, body: (harness: H) => Promise<void>): ContractCase {
  return {
    name,
    run: async () => {
      const harness = await factory();
      try {
        await body(harness);
      } finally {
        await harness.cleanup();
      }
    },
  };
}

const CAPACITY = 1024 * 1024;

export function chunkStoreContract(factory: ChunkStoreFactory): ContractCase[] {
  const withStore = (name: string, body: (h: ChunkStoreHarness) => Promise<void>, capacity = CAPACITY): ContractCase =>
    contractCase(() => factory(capacity), name, async (harness) => {
      try {
        await body(harness);
      } finally {
        await harness.store.close?.();
      }
    });

  return [
    withStore('put then get returns the same bytes', async ({ store }) => {
      const { hash, data } = await chunk(1000, 1);
      await store.put(hash, data);
      check(equalBytes(await store.get(hash), data), 'get returned different bytes');
      check(await store.has(hash), 'has() is false after put');
    }),
    withStore('put refuses bytes that do not match the hash, and stores nothing', async ({ store }) => {
      const { hash } = await chunk(100, 2);
      const other = await chunk(100, 3);
      await expectCode(() => store.put(hash, other.data), 'HASH_MISMATCH');
      check(!(await store.has(hash)), 'mismatched chunk was stored');
      checkEqual((await store.stats()).chunkCount, 0, 'chunkCount after refused put');
    }),
    withStore('get of an unknown hash is CHUNK_NOT_FOUND', async ({ store }) => {
      const { hash } = await chunk(10, 4);
      await expectCode(() => store.get(hash), 'CHUNK_NOT_FOUND');
      await expectCode(() => store.getRange(hash, 0, 1), 'CHUNK_NOT_FOUND');
    }),
    withStore('getRange returns just those bytes, clipped to the chunk, and refuses a negative range', async ({ store }) => {
      const { hash, data } = await chunk(5000, 41);
      await store.put(hash, data);
      check(equalBytes(await store.getRange(hash, 1234, 1), data.subarray(1234, 1235)), 'one byte');
      check(equalBytes(await store.getRange(hash, 4000, 100_000), data.subarray(4000)), 'clipped to the end');
      checkEqual((await store.getRange(hash, 6000, 10)).length, 0, 'past the end');
      await expectCode(() => store.getRange(hash, -1, 10), 'BAD_REQUEST');
    }),
    withStore('putting the same chunk twice counts it once', async ({ store }) => {
      const { hash, data } = await chunk(5000, 5);
      await store.put(hash, data);
      await store.put(hash, data);
      await Promise.all([store.put(hash, data), store.put(hash, data)]);
      const stats = await store.stats();
      checkEqual(stats.chunkCount, 1, 'chunkCount');
      checkEqual(stats.usedBytes, 5000, 'usedBytes');
    }),
    withStore('stats and list follow puts and deletes', async ({ store }) => {
      const a = await chunk(300, 6);
      const b = await chunk(700, 7);
      await store.put(a.hash, a.data);
      await store.put(b.hash, b.data);
      checkEqual((await store.list()).sort().join(), [a.hash, b.hash].sort().join(), 'list');
      checkEqual((await store.stats()).usedBytes, 1000, 'usedBytes');
      await store.delete([a.hash, '0'.repeat(64)]);
      checkEqual((await store.list()).join(), b.hash, 'list after delete');
      checkEqual((await store.stats()).usedBytes, 700, 'usedBytes after delete');
      checkEqual((await store.stats()).chunkCount, 1, 'chunkCount after delete');
      await expectCode(() => store.get(a.hash), 'CHUNK_NOT_FOUND');
    }),
    withStore('an empty chunk is a chunk', async ({ store }) => {
      const { hash, data } = await chunk(0, 8);
      await store.put(hash, data);
      checkEqual((await store.get(hash)).length, 0, 'length');
    }),
    withStore('capacity is enforced with NODE_FULL', async ({ store }) => {
      const a = await chunk(6000, 9);
      const b = await chunk(6000, 10);
      await store.put(a.hash, a.data);
      await expectCode(() => store.put(b.hash, b.data), 'NODE_FULL');
      check(!(await store.has(b.hash)), 'chunk over capacity was stored');
      checkEqual((await store.stats()).usedBytes, 6000, 'usedBytes after refused put');
      await store.delete([a.hash]);
      await store.put(b.hash, b.data);
    }, 10_000),
    withStore('concurrent puts of different chunks never overshoot capacity', async ({ store }) => {
      const chunks = await Promise.all([11, 12, 13, 14].map((seed) => chunk(4000, seed)));
      const results = await Promise.allSettled(chunks.map((c) => store.put(c.hash, c.data)));
      const stored = results.filter((r) => r.status === 'fulfilled').length;
      checkEqual(stored, 2, 'chunks that fit in 10000 bytes');
      check((await store.stats()).usedBytes <= 10_000, 'usedBytes over capacity');
    }, 10_000),
    withStore('concurrent puts of one chunk while nearly full store it once', async ({ store }) => {
      const filler = await chunk(6000, 18);
      const { hash, data } = await chunk(4000, 19);
      await store.put(filler.hash, filler.data);
      await Promise.all([store.put(hash, data), store.put(hash, data), store.put(hash, data)]);
      checkEqual((await store.stats()).usedBytes, 10_000, 'usedBytes');
    }, 10_000),
    withStore('a delete racing a put of the same chunk leaves the count matching what is held', async ({ store }) => {
      const { hash, data } = await chunk(3000, 20);
      await Promise.all([store.put(hash, data), store.delete([hash]), store.put(hash, data), store.delete([hash])]);
      const held = await store.has(hash);
      checkEqual((await store.stats()).usedBytes, held ? 3000 : 0, 'usedBytes');
      checkEqual((await store.list()).length, held ? 1 : 0, 'chunks listed');
    }),
    withStore('a corrupted chunk is never returned: CHUNK_CORRUPT, and it is dropped', async ({ store, backend }) => {
      const { hash, data } = await chunk(2048, 15);
      await store.put(hash, data);
      await damage(backend, hash);
      await expectCode(() => store.get(hash), 'CHUNK_CORRUPT');
      check(!(await store.has(hash)), 'corrupt chunk is still listed');
      checkEqual((await store.stats()).usedBytes, 0, 'usedBytes after the corrupt copy was dropped');
      check((await backend.read(hash)) === undefined, 'corrupt copy is still in storage');
      await store.put(hash, data);
      check(equalBytes(await store.get(hash), data), 'chunk could not be stored again after corruption');
    }),
    withStore('putting a chunk already held rewrites a damaged copy rather than trusting it', async ({ store, backend }) => {
      const { hash, data } = await chunk(2048, 21);
      await store.put(hash, data);
      await damage(backend, hash);
      await store.put(hash, data);
      check(equalBytes(await store.get(hash), data), 'get after the damaged copy was put again');
      checkEqual((await store.stats()).usedBytes, 2048, 'usedBytes');
    }),
    withStore('chunks removed behind the store are forgotten by get and by list, and reported vanished once', async ({ store, backend }) => {
      const [a, b, c, d] = await Promise.all([chunk(500, 22), chunk(800, 23), chunk(300, 24), chunk(200, 25)]);
      for (const { hash, data } of [a, b, c, d]) await store.put(hash, data);
      const vanished: string[] = [];
      store.onVanished((hashes) => vanished.push(...hashes));
      await store.delete([d.hash]);
      await backend.remove([a.hash, c.hash]);
      await expectCode(() => store.get(a.hash), 'CHUNK_NOT_FOUND');
      check(!(await store.has(a.hash)), 'chunk found missing by get is still held');
      checkEqual(vanished.join(), a.hash, 'vanished after get');
      checkEqual((await store.list()).join(), b.hash, 'list after chunks were removed behind the store');
      await store.list();
      checkEqual(vanished.join(), [a.hash, c.hash].join(), 'vanished after list, a deleted chunk not among them');
      checkEqual((await store.stats()).usedBytes, 800, 'usedBytes');
      checkEqual((await store.stats()).chunkCount, 1, 'chunkCount');
      check(equalBytes(await store.get(b.hash), b.data), 'the chunk left alone');
    }),
    withStore('chunks survive reopening the store', async ({ store, reopen }) => {
      if (!reopen) return;
      const a = await chunk(1234, 16);
      const b = await chunk(4321, 17);
      await store.put(a.hash, a.data);
      await store.put(b.hash, b.data);
      await store.close?.();
      const again = await reopen();
      try {
        checkEqual((await again.list()).sort().join(), [a.hash, b.hash].sort().join(), 'list after reopen');
        checkEqual((await again.stats()).usedBytes, 1234 + 4321, 'usedBytes after reopen');
        check(equalBytes(await again.get(b.hash), b.data), 'bytes after reopen');
      } finally {
        await again.close?.();
      }
    }),
    withStore('manifests are listed apart, stay manifests when put again as plain chunks, and go with a delete', async ({ store }) => {
      const [plain, m1, m2] = await Promise.all([chunk(300, 26), chunk(200, 27), chunk(100, 28)]);
      await store.put(plain.hash, plain.data);
      await store.put(m1.hash, m1.data, 'manifest');
      await store.put(m2.hash, m2.data, 'manifest');
      await store.put(m1.hash, m1.data);
      checkEqual((await store.listManifests()).sort().join(), [m1.hash, m2.hash].sort().join(), 'manifests');
      checkEqual((await store.list()).length, 3, 'chunks listed, manifests among them');
      check(equalBytes(await store.get(m1.hash), m1.data), 'a manifest reads back like any chunk');
      checkEqual((await store.stats()).usedBytes, 600, 'usedBytes');
      await store.delete([m2.hash, m1.hash]);
      checkEqual((await store.listManifests()).join(), '', 'manifests after a delete');
      await expectCode(() => store.get(m1.hash), 'CHUNK_NOT_FOUND');
    }),
    withStore('manifests are still listed after reopening the store', async ({ store, reopen }) => {
      if (!reopen) return;
      const m = await chunk(400, 29);
      await store.put(m.hash, m.data, 'manifest');
      await store.close?.();
      const again = await reopen();
      try {
        checkEqual((await again.listManifests()).join(), m.hash, 'manifests after reopen');
        check(equalBytes(await again.get(m.hash), m.data), 'manifest bytes after reopen');
      } finally {
        await again.close?.();
      }
    }),
  ];
}

async function chunk(size: number, seed: number): Promise<{ hash: string; data: Uint8Array }> {
  const data = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return { hash: await sha256Hex(data), data };
}

/** Flips a stored chunk's first byte, as bit rot would. */
async function damage(backend: ChunkBackend, hash: string): Promise<void> {
  const data = await backend.read(hash);
  if (!data?.length) throw new Error(`no bytes of ${hash} in storage to damage`);
  data[0] ^= 0xff;
  await backend.write(hash, data, 'chunk');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

async function expectCode(fn: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ShoalError && err.code === code) return;
    throw new Error(`expected ${code}, got ${err instanceof ShoalError ? err.code : String(err)}`);
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}
