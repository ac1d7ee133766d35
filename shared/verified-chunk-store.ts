import type { ChunkKind, ChunkStore, ChunkStoreStats } from './chunk-store.ts';
import { ShoalError } from './errors.ts';
import { sha256Hex } from './hash.ts';
import { KeyedLock } from './keyed-lock.ts';

/**
 * Where a store's bytes live. A backend only moves bytes; what may be stored, how much, and whether
 * a read can be trusted is decided once, by VerifiedChunkStore, for every kind of storage.
 */
export interface ChunkBackend {
  /** The bytes under `hash` as they are now, possibly damaged, or undefined when there are none. */
  read(hash: string): Promise<Uint8Array | undefined>;
  /** Bytes `offset`..`offset + length` of the copy under `hash`, clipped to its end, or undefined when there is none. */
  readRange(hash: string, offset: number, length: number): Promise<Uint8Array | undefined>;
  /**
   * Stores `data` under `hash` in place of any copy: whole or not at all, and durable once it resolves.
   * A manifest is also remembered as one, until the hash is removed.
   */
  write(hash: string, data: Uint8Array, kind: ChunkKind): Promise<void>;
  /** Removes whichever of `hashes` exist. */
  remove(hashes: string[]): Promise<void>;
  /** The size of every chunk in storage, read afresh rather than remembered. */
  scan(): Promise<Map<string, number>>;
  /** The hashes written as manifests and not removed since, read afresh. */
  manifests(): Promise<string[]>;
  /** Bytes the storage can still take, where it can tell (a disk's free space); without it, only the capacity given limits the store. */
  room?(): Promise<number>;
  close?(): Promise<void>;
}

/** Lowercase hex SHA-256. A platform that can hash on the calling thread returns the digest directly. */
export type Sha256 = (data: Uint8Array) => string | Promise<string>;

/**
 * A ChunkStore over any backend. It verifies every put against its hash, keeps an index of what is
 * held so room can be checked without touching storage, re-hashes every read and drops a copy that
 * fails, and runs the mutations of one hash one at a time so a put, a delete and the dropping of a
 * corrupt copy of the same chunk cannot interleave.
 */
export class VerifiedChunkStore implements ChunkStore {
  /** What the store was given; capacityBytes is less when the storage itself has less room. */
  readonly givenCapacityBytes: number;
  /** The backend's room as last asked (refreshed by stats()), 0 from a write refused for want of space until it is asked again. */
  #room = Infinity;
  readonly #backend: ChunkBackend;
  readonly #sha256: Sha256;
  readonly #lock = new KeyedLock();
  /** hash -> size of every chunk held, as the last scan found it and this store's own writes left it. */
  readonly #sizes = new Map<string, number>();
  #storedBytes = 0;
  /** Bytes promised to puts still writing: counted against capacity so concurrent puts cannot overshoot it. */
  #reservedBytes = 0;
  /** One set per scan under way, collecting the hashes whose index entry changed while it ran. */
  readonly #scans = new Set<Set<string>>();
  readonly #vanishedListeners = new Set<(hashes: string[]) => void>();
  readonly #indexed: Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(backend: ChunkBackend, capacityBytes: number, sha256: Sha256 = sha256Hex) {
    this.#backend = backend;
    this.givenCapacityBytes = capacityBytes;
    this.#sha256 = sha256;
    // Nothing is indexed before the first scan, so it finds nothing gone.
    this.#indexed = this.#rescan().then(() => this.#refreshRoom());
    // Every method awaits it and sees a failure there; this keeps it from also being an unhandled rejection.
    this.#indexed.catch(() => {});
  }

  /**
   * The lesser of the capacity given and what the storage can really hold: what is stored plus the
   * room left. A node whose disk filled up behind its back (ENOSPC) so reports itself full.
   */
  get capacityBytes(): number {
    return Math.min(this.givenCapacityBytes, this.#storedBytes + this.#room);
  }

  /** Resolves once the backend has been scanned; every method waits for that, so this is only for failing early. */
  ready(): Promise<void> {
    return this.#indexed;
  }

  async put(hash: string, data: Uint8Array, kind: ChunkKind = 'chunk'): Promise<void> {
    const actual = await this.#sha256(data);
    if (actual !== hash) throw new ShoalError('HASH_MISMATCH', `chunk bytes hash to ${actual}, not ${hash}`);
    await this.#indexed;
    await this.#lock.run([hash], async () => {
      // A copy already held is written again rather than trusted: it may have rotted since, and
      // the gateway is about to count this answer as a good replica.
      const growth = data.length - (this.#sizes.get(hash) ?? 0);
      const committed = this.#storedBytes + this.#reservedBytes;
      if (growth > 0 && committed + growth > this.capacityBytes) {
        throw new ShoalError('NODE_FULL', `node is full: ${committed} of ${this.capacityBytes} bytes held or being written, chunk needs ${growth}`);
      }
      const reserved = Math.max(growth, 0);
      this.#reservedBytes += reserved;
      try {
        await this.#backend.write(hash, data, kind);
        this.#record(hash, data.length);
      } catch (err) {
        // The storage ran out before the capacity did: full until it says it has room again.
        if (err instanceof ShoalError && err.code === 'NODE_FULL') this.#room = 0;
        throw err;
      } finally {
        this.#reservedBytes -= reserved;
      }
    });
  }

  async get(hash: string): Promise<Uint8Array> {
    await this.#indexed;
    if (!this.#sizes.has(hash)) throw notHeld(hash);
    const data = await this.#backend.read(hash);
    if (data !== undefined && (await this.#sha256(data)) === hash) return data;
    // Reads take no lock, so a put may have just replaced what was read: look again holding it.
    return this.#lock.run([hash], async () => {
      const again = await this.#backend.read(hash);
      if (again !== undefined && (await this.#sha256(again)) === hash) return again;
      await this.#backend.remove([hash]);
      this.#forget(hash);
      if (again === undefined) {
        this.#vanished([hash]);
        throw notHeld(hash);
      }
      throw new ShoalError('CHUNK_CORRUPT', `chunk ${hash} failed its hash check and was dropped`);
    });
  }

  async getRange(hash: string, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new ShoalError('BAD_REQUEST', `bad range of ${length} bytes at ${offset}`);
    }
    await this.#indexed;
    const size = this.#sizes.get(hash);
    if (size === undefined) throw notHeld(hash);
    const data = await this.#backend.readRange(hash, offset, Math.max(0, Math.min(length, size - offset)));
    if (data === undefined) throw notHeld(hash);
    return data;
  }

  async has(hash: string): Promise<boolean> {
    await this.#indexed;
    return this.#sizes.has(hash);
  }

  async delete(hashes: string[]): Promise<void> {
    await this.#indexed;
    await this.#lock.run(hashes, async () => {
      // Only indexed hashes reach the backend, whose keys may be paths: each was verified by a put or found by a scan.
      const held = [...new Set(hashes)].filter((hash) => this.#sizes.has(hash));
      if (held.length === 0) return;
      await this.#backend.remove(held);
      for (const hash of held) this.#forget(hash);
    });
  }

  /** Scans the backend first, so chunks removed behind the store's back, or a browser's eviction, are not reported. */
  async list(): Promise<string[]> {
    await this.#indexed;
    this.#vanished(await this.#rescan());
    return [...this.#sizes.keys()];
  }

  async listManifests(): Promise<string[]> {
    await this.#indexed;
    return (await this.#backend.manifests()).filter((hash) => this.#sizes.has(hash));
  }

  onVanished(listener: (hashes: string[]) => void): () => void {
    this.#vanishedListeners.add(listener);
    return () => this.#vanishedListeners.delete(listener);
  }

  /** Also looks at the storage's room again, so capacityBytes is current once it resolves. */
  async stats(): Promise<ChunkStoreStats> {
    await this.#indexed;
    await this.#refreshRoom();
    return { usedBytes: this.#storedBytes, chunkCount: this.#sizes.size };
  }

  async #refreshRoom(): Promise<void> {
    if (this.#backend.room) this.#room = Math.max(0, await this.#backend.room());
  }

  /** Waits for writes and deletes under way, so a clean shutdown leaves nothing half done. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#indexed.catch(() => {});
      await this.#lock.idle();
      await this.#backend.close?.();
    })();
    return this.#closed;
  }

  /**
   * Brings the index in line with what the backend holds, and says which indexed chunks it found
   * gone. A hash this store is changing, or changed while the scan ran, keeps its entry: the scan
   * may have seen it on either side of the change.
   */
  async #rescan(): Promise<string[]> {
    const changed = new Set<string>();
    this.#scans.add(changed);
    let found: Map<string, number>;
    try {
      found = await this.#backend.scan();
    } finally {
      this.#scans.delete(changed);
    }
    const settled = (hash: string) => !changed.has(hash) && !this.#lock.busy(hash);
    const gone = [...this.#sizes.keys()].filter((hash) => !found.has(hash) && settled(hash));
    for (const hash of gone) this.#forget(hash);
    for (const [hash, size] of found) if (settled(hash)) this.#record(hash, size);
    return gone;
  }

  #vanished(hashes: string[]): void {
    if (hashes.length === 0) return;
    for (const listener of this.#vanishedListeners) listener(hashes);
  }

  #record(hash: string, size: number): void {
    this.#storedBytes += size - (this.#sizes.get(hash) ?? 0);
    this.#sizes.set(hash, size);
    for (const changed of this.#scans) changed.add(hash);
  }

  #forget(hash: string): void {
    this.#storedBytes -= this.#sizes.get(hash) ?? 0;
    this.#sizes.delete(hash);
    for (const changed of this.#scans) changed.add(hash);
  }
}

function notHeld(hash: string): ShoalError {
  return new ShoalError('CHUNK_NOT_FOUND', `chunk ${hash} not held`);
}
