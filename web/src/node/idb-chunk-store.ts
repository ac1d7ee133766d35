import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { asBlob, blobBytes } from '../../../shared/blob-bytes.ts';
import type { ChunkKind } from '../../../shared/chunk-store.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { VerifiedChunkStore, type ChunkBackend } from '../../../shared/verified-chunk-store.ts';
import { ownsWholeBuffer } from '../../../shared/whole-buffer.ts';

/**
 * One object store holds the kinds of record of a chunk, written and deleted together in one
 * transaction: its bytes, its size, so a scan can size every chunk without loading its bytes, and
 * for a manifest a mark, so manifests are listed without reading the rest.
 *
 * A chunk's bytes are a Blob from BLOB_BYTES up, and a Uint8Array below. Chromium serializes a
 * Uint8Array and then puts a value past 64 KiB in a Blob of its own anyway: a Blob made here skips
 * the serializing, and one read back is sent on (asBlob) without the tab copying it again. A
 * small chunk kept inline spares the browser a file of its own. Releases before this one stored every chunk as a
 * Uint8Array, read as it always was: both kinds are told apart on every read, so no migration
 * rewrites a tab's store.
 */
type StoredBytes = Blob | Uint8Array;
const BLOB_BYTES = 64 * 1024;
/** What Chromium raises for a value whose Blob file is gone (NotFoundError, NotReadableError) or cut short (UnknownError, for a large value it wrapped itself). */
const LOST = new Set(['NotFoundError', 'NotReadableError', 'UnknownError']);
const chunkKey = (hash: string): IDBValidKey => ['chunk', hash];
const sizeKey = (hash: string): IDBValidKey => ['size', hash];
const manifestKey = (hash: string): IDBValidKey => ['manifest', hash];
/** Array keys sort after their prefix and before any longer array, so this spans every [kind, hash]. */
const every = (kind: 'size' | 'manifest'): IDBKeyRange => IDBKeyRange.bound([kind], [kind, []]);

export function nodeDatabaseName(nodeId: string): string {
  return `shoal-node-${nodeId}`;
}

/** A browser node's chunks in IndexedDB, one database per node id. */
interface Write {
  hash: string;
  value: StoredBytes;
  kind: ChunkKind;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class IdbChunkBackend implements ChunkBackend {
  readonly #use: UseStore;
  readonly #waiting: Write[] = [];
  #committing = false;

  constructor(nodeId: string) {
    this.#use = createStore(nodeDatabaseName(nodeId), 'chunks');
  }

  async read(hash: string): Promise<Uint8Array | undefined> {
    return unlessLost(async () => {
      const stored = await this.#stored(hash);
      return stored instanceof Blob ? await blobBytes(stored) : stored;
    });
  }

  /**
   * A Blob gives up the range alone; an older release's Uint8Array is read whole. A lost file is
   * no bytes here too: a download asks for a whole chunk as a range, and asks for it whole, which
   * drops the copy, only when what it got does not open.
   */
  async readRange(hash: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    return unlessLost(async () => {
      const stored = await this.#stored(hash);
      return stored instanceof Blob ? await blobBytes(stored.slice(offset, offset + length)) : stored?.subarray(offset, offset + length);
    });
  }

  #stored(hash: string): Promise<StoredBytes | undefined> {
    return this.#use('readonly', (store) => promisifyRequest<StoredBytes | undefined>(store.get(chunkKey(hash))));
  }

  /**
   * Writes wait for the transaction under way and then go together in the next: one commit, and
   * one flush to disk, for all the puts that arrived meanwhile.
   */
  write(hash: string, data: Uint8Array, kind: ChunkKind): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ hash, value: stored(data), kind, resolve, reject });
      void this.#commitWaiting();
    });
  }

  async #commitWaiting(): Promise<void> {
    if (this.#committing) return;
    this.#committing = true;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0);
        try {
          await this.#commit(batch);
          for (const write of batch) write.resolve();
        } catch (err) {
          const failure =
            err instanceof DOMException && err.name === 'QuotaExceededError'
              ? new ShoalError('NODE_FULL', `the browser refused to store more for this site: ${err.message}`, { cause: err })
              : err;
          for (const write of batch) write.reject(failure);
        }
      }
    } finally {
      this.#committing = false;
    }
  }

  /**
   * One transaction, 'strict': the browser's default (relaxed, since Chromium 121) may complete it
   * before the data reaches the disk, and a put is acknowledged only once durable.
   */
  async #commit(batch: Write[]): Promise<void> {
    const db = await this.#use('readonly', (store) => store.transaction.db);
    const tx = db.transaction('chunks', 'readwrite', { durability: 'strict' });
    const store = tx.objectStore('chunks');
    for (const { hash, value, kind } of batch) {
      store.put(value, chunkKey(hash));
      store.put(value instanceof Blob ? value.size : value.length, sizeKey(hash));
      if (kind === 'manifest') store.put(true, manifestKey(hash));
    }
    await promisifyRequest(tx);
  }

  async remove(hashes: string[]): Promise<void> {
    await this.#use('readwrite', (store) => {
      for (const hash of hashes) {
        store.delete(chunkKey(hash));
        store.delete(sizeKey(hash));
        store.delete(manifestKey(hash));
      }
      return promisifyRequest(store.transaction);
    });
  }

  /** Read from the stored keys every time, so a database the browser evicted shows as the empty one it now is. */
  scan(): Promise<Map<string, number>> {
    return this.#use('readonly', async (store) => {
      const [keys, sizes] = await Promise.all([
        promisifyRequest(store.getAllKeys(every('size'))),
        promisifyRequest<number[]>(store.getAll(every('size'))),
      ]);
      return new Map(keys.map((key, i) => [(key as [string, string])[1], sizes[i]]));
    });
  }

  manifests(): Promise<string[]> {
    return this.#use('readonly', async (store) => {
      const keys = await promisifyRequest(store.getAllKeys(every('manifest')));
      return keys.map((key) => (key as [string, string])[1]);
    });
  }

  /** Ends this connection, so the database can be deleted or opened afresh. */
  async close(): Promise<void> {
    const db = await this.#use('readonly', (store) => store.transaction.db);
    db.close();
  }
}

function stored(data: Uint8Array): StoredBytes {
  if (data.length >= BLOB_BYTES) return asBlob(data);
  // Structured clone copies a view's whole buffer; a frame's payload is a view into the frame.
  return ownsWholeBuffer(data) ? data : data.slice();
}

/**
 * The store a tab serves as a node. One tab at a time holds a node's identity (a Web Lock), so this
 * store's own room accounting sees every put into the database.
 */
export class IdbChunkStore extends VerifiedChunkStore {
  constructor(nodeId: string, capacityBytes: number) {
    super(new IdbChunkBackend(nodeId), capacityBytes);
  }

  /** Deletes a node's whole database; it must not be open in this or another tab. */
  static async destroy(nodeId: string): Promise<void> {
    await promisifyRequest(indexedDB.deleteDatabase(nodeDatabaseName(nodeId)));
  }
}

/**
 * A value whose file the browser lost or found cut short cannot be read again: damaged bytes
 * (none), which fail their hash and are dropped, rather than a chunk listed on that no read can serve.
 */
async function unlessLost(read: () => Promise<Uint8Array | undefined>): Promise<Uint8Array | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof DOMException && LOST.has(err.name)) return new Uint8Array(0);
    throw err;
  }
}
