import type { ChunkStore, ChunkStoreStats } from './chunk-store.ts';
import { ShoalError } from './errors.ts';
import { sha256Hex } from './hash.ts';

/** Holds chunks in a Map: for tests, and for nodes that are happy to lose everything on exit. */
export class MemoryChunkStore implements ChunkStore {
  readonly capacityBytes: number;
  readonly #chunks = new Map<string, Uint8Array>();
  #usedBytes = 0;

  constructor(capacityBytes: number) {
    this.capacityBytes = capacityBytes;
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    await verifyChunk(hash, data);
    // A copy already held is replaced, not trusted: it may have been damaged since it was stored.
    if (!this.#chunks.has(hash)) {
      assertRoom(this.capacityBytes, this.#usedBytes, data.length);
      this.#usedBytes += data.length;
    }
    this.#chunks.set(hash, data.slice());
  }

  async get(hash: string): Promise<Uint8Array> {
    const data = this.#chunks.get(hash);
    if (!data) throw new ShoalError('CHUNK_NOT_FOUND', `chunk ${hash} not held`);
    if ((await sha256Hex(data)) !== hash) {
      await this.delete([hash]);
      throw new ShoalError('CHUNK_CORRUPT', `chunk ${hash} failed its hash check and was dropped`);
    }
    return data.slice();
  }

  async has(hash: string): Promise<boolean> {
    return this.#chunks.has(hash);
  }

  async delete(hashes: string[]): Promise<void> {
    for (const hash of hashes) {
      const data = this.#chunks.get(hash);
      if (!data) continue;
      this.#chunks.delete(hash);
      this.#usedBytes -= data.length;
    }
  }

  async list(): Promise<string[]> {
    return [...this.#chunks.keys()];
  }

  async stats(): Promise<ChunkStoreStats> {
    return { usedBytes: this.#usedBytes, chunkCount: this.#chunks.size };
  }

  /** Test hook: damages a held chunk in place, as bit rot would. */
  corrupt(hash: string): void {
    const data = this.#chunks.get(hash);
    if (data && data.length > 0) data[0] ^= 0xff;
  }
}

export async function verifyChunk(hash: string, data: Uint8Array): Promise<void> {
  const actual = await sha256Hex(data);
  if (actual !== hash) throw new ShoalError('HASH_MISMATCH', `chunk bytes hash to ${actual}, not ${hash}`);
}

export function assertRoom(capacityBytes: number, usedBytes: number, adding: number): void {
  if (usedBytes + adding > capacityBytes) {
    throw new ShoalError('NODE_FULL', `node is full: ${usedBytes} of ${capacityBytes} bytes used, chunk needs ${adding}`);
  }
}
