/**
 * Where a node keeps chunks. Chunks are content-addressed by lowercase hex SHA-256.
 * Every implementation is a VerifiedChunkStore over its own backend (verified-chunk-store.ts) and
 * runs the shared contract suite in chunk-store.contract.ts.
 */
export interface ChunkStoreStats {
  usedBytes: number;
  chunkCount: number;
}

/**
 * A manifest is a chunk the gateway wrote to describe a file or a deletion: a store keeps manifests
 * where it can list them apart from the rest, so they are found without reading every chunk.
 */
export type ChunkKind = 'chunk' | 'manifest';

export interface ChunkStore {
  /** The lesser of the capacity given and what the storage can hold, as last found (stats() looks again). */
  readonly capacityBytes: number;
  /**
   * Verifies `data` hashes to `hash` (HASH_MISMATCH otherwise), enforces capacity (NODE_FULL), is durable on
   * resolve. Idempotent: a copy already held counts once, and is rewritten rather than trusted. A chunk
   * once put as a manifest stays one for as long as it is held.
   */
  put(hash: string, data: Uint8Array, kind?: ChunkKind): Promise<void>;
  /**
   * Re-hashes on every read: CHUNK_NOT_FOUND when absent, CHUNK_CORRUPT (and the bad copy dropped) when the
   * bytes no longer match. A copy that vanished from storage behind the store's back is CHUNK_NOT_FOUND and forgotten.
   */
  get(hash: string): Promise<Uint8Array>;
  /**
   * Bytes `offset` to `offset + length` of a chunk held, clipped to its end, read without the
   * hash check (that needs the whole chunk): whoever asks for a range verifies it. CHUNK_NOT_FOUND
   * when absent.
   */
  getRange(hash: string, offset: number, length: number): Promise<Uint8Array>;
  has(hash: string): Promise<boolean>;
  /** Removes what exists; unknown hashes are ignored. */
  delete(hashes: string[]): Promise<void>;
  /** Every hash held, read from storage, so it is also true after a restart or an eviction. */
  list(): Promise<string[]>;
  /** The hashes among those held that were put as manifests. */
  listManifests(): Promise<string[]>;
  /**
   * Calls `listener` with chunks that left storage behind the store's back (deleted by hand, evicted,
   * a directory restored from an older copy) as list() or get() find them gone, each once: whoever
   * was told the store held them must hear it. Returns a function that stops the calls.
   */
  onVanished(listener: (hashes: string[]) => void): () => void;
  stats(): Promise<ChunkStoreStats>;
  close?(): Promise<void>;
}
