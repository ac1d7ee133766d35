import { chunkStoreContract } from '../../shared/chunk-store.contract.ts';
import { toShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { IdbChunkBackend, IdbChunkStore } from '../../web/src/node/idb-chunk-store.ts';

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
  async inventory(nodeId: string, capacity: number): Promise<{ hashes: string[]; usedBytes: number; chunkCount: number }> {
    const store = storeFor(nodeId, capacity);
    return { hashes: await store.list(), ...(await store.stats()) };
  },
};

function randomBytes(size: number): Uint8Array {
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
