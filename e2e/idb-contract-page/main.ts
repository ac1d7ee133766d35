import { chunkStoreContract } from '../../shared/chunk-store.contract.ts';
import { toShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { createStore, promisifyRequest, set } from 'idb-keyval';
import { blobBytes } from '../../shared/blob-bytes.ts';
import { IdbChunkBackend, IdbChunkStore, nodeDatabaseName } from '../../web/src/node/idb-chunk-store.ts';

/**
 * Runs inside Chromium: the shared ChunkStore contract against the real IndexedDB store. The spec
 * drives it case by case through `window.idbContract`, so each case is its own node:test test.
 */
let stores = 0;
const cases = chunkStoreContract(async (capacity) => {
  const id = `contract-${++stores}`;
  const backend = new IdbChunkBackend(id);
  return {
    store: new IdbChunkStore(id, capacity),
    backend,
    reopen: async () => new IdbChunkStore(id, capacity),
    cleanup: async () => {
      await backend.close();
      await IdbChunkStore.destroy(id);
    },
  };
});

/** Stores stay open between calls, so a test can change the browser's storage under a live one. */
const open = new Map<string, IdbChunkStore>();
const storeFor = (nodeId: string, capacity: number) => open.get(nodeId) ?? open.set(nodeId, new IdbChunkStore(nodeId, capacity)).get(nodeId)!;

const page = {
  async run(name: string): Promise<void> {
    const found = cases.find((c) => c.name === name);
    if (!found) throw new Error(`no contract case named ${JSON.stringify(name)}`);
    await found.run();
  },
  /** Puts `chunks` random chunks of `size` bytes; answers with how many went in and what stopped it. */
  async fill(nodeId: string, capacity: number, chunks: number, size: number): Promise<{ stored: number; code?: string; message?: string }> {
    const store = storeFor(nodeId, capacity);
    let stored = 0;
    try {
      for (; stored < chunks; stored++) {
        const data = randomBytes(size);
        await store.put(await sha256Hex(data), data);
      }
      return { stored };
    } catch (err) {
      const e = toShoalError(err);
      return { stored, code: e.code, message: e.message };
    }
  },
  /** The same, while IndexedDB refuses writes as it does when the site is over its quota. */
  async fillOverQuota(nodeId: string, capacity: number, chunks: number, size: number): Promise<{ stored: number; code?: string; message?: string }> {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      return await page.fill(nodeId, capacity, chunks, size);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
  },
  /**
   * Writes chunks of these sizes as the release before Blobs did (a Uint8Array and its size under
   * one transaction's keys), then opens a store over them: what it lists, reads and serves.
   */
  async readOldFormat(nodeId: string, sizes: number[]): Promise<{ listed: number; usedBytes: number; intact: number; rangesIntact: number }> {
    const raw = createStore(nodeDatabaseName(nodeId), 'chunks');
    const chunks = await Promise.all(sizes.map(async (size) => ({ data: randomBytes(size), hash: '' })));
    for (const chunk of chunks) {
      chunk.hash = await sha256Hex(chunk.data);
      await raw('readwrite', (store) => {
        store.put(chunk.data, ['chunk', chunk.hash]);
        store.put(chunk.data.length, ['size', chunk.hash]);
        return promisifyRequest(store.transaction);
      });
    }
    const store = new IdbChunkStore(nodeId, 1024 ** 3);
    try {
      const listed = (await store.list()).filter((hash) => chunks.some((c) => c.hash === hash)).length;
      let intact = 0;
      let rangesIntact = 0;
      for (const { hash, data } of chunks) {
        if (sameBytes(await store.get(hash), data)) intact++;
        const at = Math.floor(data.length / 3);
        if (sameBytes(await store.getRange(hash, at, 1000), data.subarray(at, at + 1000))) rangesIntact++;
      }
      return { listed, usedBytes: (await store.stats()).usedBytes, intact, rangesIntact };
    } finally {
      await store.close();
    }
  },
  /**
   * Puts a large chunk (kept as a Blob), once from bytes the page made and once from bytes read
   * out of a Blob (as a fetched chunk is); reads both back whole and in part; then damages the
   * second's stored Blob behind the store's back, as bit rot would, and reads it again.
   */
  async largeChunks(nodeId: string, size: number): Promise<{ storedAs: string[]; intact: number; rangesIntact: number; afterDamage: string; stillHeld: boolean }> {
    const store = new IdbChunkStore(nodeId, 1024 ** 3);
    const made = randomBytes(size);
    const fetched = await blobBytes(new Blob([randomBytes(size)]));
    const expected = [made.slice(), fetched.slice()];
    const hashes = [await sha256Hex(made), await sha256Hex(fetched)];
    await store.put(hashes[0]!, made);
    await store.put(hashes[1]!, fetched);
    const raw = createStore(nodeDatabaseName(nodeId), 'chunks');
    const storedAs = await Promise.all(hashes.map(async (hash) => ((await raw('readonly', (s) => promisifyRequest(s.get(['chunk', hash])))) instanceof Blob ? 'Blob' : 'bytes')));
    let intact = 0;
    let rangesIntact = 0;
    for (const [i, hash] of hashes.entries()) {
      if (sameBytes(await store.get(hash), expected[i]!)) intact++;
      if (sameBytes(await store.getRange(hash, size - 500, 1000), expected[i]!.subarray(size - 500))) rangesIntact++;
    }
    const damaged = expected[1]!.slice();
    damaged[size >> 1]! ^= 1;
    await set(["chunk", hashes[1]!], new Blob([damaged]), raw);
    const afterDamage = await store.get(hashes[1]!).then(
      () => 'read',
      (err) => toShoalError(err).code,
    );
    const stillHeld = await store.has(hashes[1]!);
    await store.close();
    return { storedAs, intact, rangesIntact, afterDamage, stillHeld };
  },
  async inventory(nodeId: string, capacity: number): Promise<{ hashes: string[]; usedBytes: number; chunkCount: number }> {
    const store = storeFor(nodeId, capacity);
    return { hashes: await store.list(), ...(await store.stats()) };
  },
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB per call.
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

export type IdbContractPage = typeof page;

declare global {
  interface Window {
    idbContract: IdbContractPage;
  }
}
window.idbContract = page;
