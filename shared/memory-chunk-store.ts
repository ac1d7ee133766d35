import type { ChunkKind } from './chunk-store.ts';
import { VerifiedChunkStore, type ChunkBackend } from './verified-chunk-store.ts';

/** Chunks in a Map. Copies go in and out, so nothing a caller does to its bytes reaches the stored ones. */
export class MemoryChunkBackend implements ChunkBackend {
  readonly #chunks = new Map<string, Uint8Array>();
  readonly #manifests = new Set<string>();

  async read(hash: string): Promise<Uint8Array | undefined> {
    return this.#chunks.get(hash)?.slice();
  }

  async readRange(hash: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    return this.#chunks.get(hash)?.slice(offset, offset + length);
  }

  async write(hash: string, data: Uint8Array, kind: ChunkKind): Promise<void> {
    this.#chunks.set(hash, data.slice());
    if (kind === 'manifest') this.#manifests.add(hash);
  }

  async remove(hashes: string[]): Promise<void> {
    for (const hash of hashes) {
      this.#chunks.delete(hash);
      this.#manifests.delete(hash);
    }
  }

  async scan(): Promise<Map<string, number>> {
    return new Map([...this.#chunks].map(([hash, data]) => [hash, data.length]));
  }

  async manifests(): Promise<string[]> {
    return [...this.#manifests];
  }
}

/** For tests, and for nodes that are happy to lose everything on exit. */
export class MemoryChunkStore extends VerifiedChunkStore {
  /** Pass `backend` to reach the stored chunks around the store, as a test damaging them does. */
  constructor(capacityBytes: number, backend: MemoryChunkBackend = new MemoryChunkBackend()) {
    super(backend, capacityBytes);
  }
}
