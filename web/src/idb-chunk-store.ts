import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { ChunkStore, ChunkStoreStats } from '../../shared/chunk-store.ts';
import { ShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { assertRoom, verifyChunk } from '../../shared/memory-chunk-store.ts';

/**
 * One object store holds three kinds of record, so a put or a delete changes all of them in one
 * transaction: the chunk bytes, the chunk's size, and running totals that make stats() one read.
 */
const chunkKey = (hash: string): IDBValidKey => ['chunk', hash];
const sizeKey = (hash: string): IDBValidKey => ['size', hash];
const TOTALS_KEY: IDBValidKey = ['totals'];
/** Array keys sort after their prefix and before any longer array, so this spans every ['chunk', hash]. */
const allChunks = (): IDBKeyRange => IDBKeyRange.bound(['chunk'], ['chunk', []]);
const NO_CHUNKS: ChunkStoreStats = { usedBytes: 0, chunkCount: 0 };

export function nodeDatabaseName(nodeId: string): string {
  return `shoal-node-${nodeId}`;
}

/**
 * A browser node's chunks in IndexedDB, one database per node id. Every read and write of sizes
 * and totals runs inside IndexedDB's serialised readwrite transactions, which is what keeps
 * concurrent puts from overshooting capacity. Inventory is always read from the stored keys, so a
 * store the browser evicted reports what is really left rather than what it once held.
 */
export class IdbChunkStore implements ChunkStore {
  readonly nodeId: string;
  readonly capacityBytes: number;
  readonly #use: UseStore;
  #closed = false;

  constructor(nodeId: string, capacityBytes: number) {
    this.nodeId = nodeId;
    this.capacityBytes = capacityBytes;
    this.#use = createStore(nodeDatabaseName(nodeId), 'chunks');
  }

  /** Deletes a node's whole database; it must not be open in this or another tab. */
  static async destroy(nodeId: string): Promise<void> {
    await promisifyRequest(indexedDB.deleteDatabase(nodeDatabaseName(nodeId)));
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    await verifyChunk(hash, data);
    // Structured clone copies a view's whole buffer; a frame's payload is a view into the frame.
    const value = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    try {
      await this.#use('readwrite', async (store) => {
        const [held, totals] = await Promise.all([promisifyRequest(store.getKey(sizeKey(hash))), readTotals(store)]);
        if (held === undefined) assertRoom(this.capacityBytes, totals.usedBytes, data.length);
        // A copy already held is written again rather than trusted: it may have been damaged.
        store.put(value, chunkKey(hash));
        if (held === undefined) {
          store.put(data.length, sizeKey(hash));
          store.put({ usedBytes: totals.usedBytes + data.length, chunkCount: totals.chunkCount + 1 }, TOTALS_KEY);
        }
        await promisifyRequest(store.transaction);
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'QuotaExceededError') {
        throw new ShoalError('NODE_FULL', `the browser refused to store more for this site: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  async get(hash: string): Promise<Uint8Array> {
    const data = await this.#use('readonly', (store) => promisifyRequest<Uint8Array | undefined>(store.get(chunkKey(hash))));
    if (data === undefined) throw new ShoalError('CHUNK_NOT_FOUND', `chunk ${hash} not held`);
    if ((await sha256Hex(data)) !== hash) {
      await this.delete([hash]);
      throw new ShoalError('CHUNK_CORRUPT', `chunk ${hash} failed its hash check and was dropped`);
    }
    return data;
  }

  async has(hash: string): Promise<boolean> {
    return (await this.#use('readonly', (store) => promisifyRequest(store.getKey(chunkKey(hash))))) !== undefined;
  }

  async delete(hashes: string[]): Promise<void> {
    if (hashes.length === 0) return;
    await this.#use('readwrite', async (store) => {
      const [sizes, totals] = await Promise.all([
        Promise.all(hashes.map((hash) => promisifyRequest<number | undefined>(store.get(sizeKey(hash))))),
        readTotals(store),
      ]);
      let { usedBytes, chunkCount } = totals;
      hashes.forEach((hash, i) => {
        const size = sizes[i];
        if (size === undefined) return;
        store.delete(chunkKey(hash));
        store.delete(sizeKey(hash));
        usedBytes -= size;
        chunkCount--;
      });
      store.put({ usedBytes, chunkCount }, TOTALS_KEY);
      await promisifyRequest(store.transaction);
    });
  }

  async list(): Promise<string[]> {
    const keys = await this.#use('readonly', (store) => promisifyRequest(store.getAllKeys(allChunks())));
    return keys.map((key) => (key as [string, string])[1]);
  }

  async stats(): Promise<ChunkStoreStats> {
    return this.#use('readonly', readTotals);
  }

  /** Ends this connection, so the database can be deleted or opened afresh. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const db = await this.#use('readonly', (store) => store.transaction.db);
    db.close();
  }

  /** Test hook: damages a held chunk in place, as bit rot would. */
  async corrupt(hash: string): Promise<void> {
    await this.#use('readwrite', async (store) => {
      const data = await promisifyRequest<Uint8Array | undefined>(store.get(chunkKey(hash)));
      if (!data || data.length === 0) return;
      data[0] ^= 0xff;
      store.put(data, chunkKey(hash));
      await promisifyRequest(store.transaction);
    });
  }
}

async function readTotals(store: IDBObjectStore): Promise<ChunkStoreStats> {
  return (await promisifyRequest<ChunkStoreStats | undefined>(store.get(TOTALS_KEY))) ?? NO_CHUNKS;
}
