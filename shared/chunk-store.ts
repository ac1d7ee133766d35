/**
 * Where a node keeps chunks. Chunks are content-addressed by lowercase hex SHA-256.
 * Every implementation is a VerifiedChunkStore over its own backend (verified-chunk-store.ts) and
 * runs the shared contract suite in chunk-store.contract.ts.
 */
export interface ChunkStoreStats {
  usedBytes: number;
  chunkCount: number;
}

export interface ChunkStore {
  readonly capacityBytes: number;
  /**
   * Verifies `data` hashes to `hash` (HASH_MISMATCH otherwise), enforces capacity (NODE_FULL), is durable on
   * resolve. Idempotent: a copy already held counts once, and is rewritten rather than trusted.
   */
  put(hash: string, data: Uint8Array): Promise<void>;
  /**
   * Re-hashes on every read: CHUNK_NOT_FOUND when absent, CHUNK_CORRUPT (and the bad copy dropped) when the
   * bytes no longer match. A copy that vanished from storage behind the store's back is CHUNK_NOT_FOUND and forgotten.
   */
  get(hash: string): Promise<Uint8Array>;
  has(hash: string): Promise<boolean>;
  /** Removes what exists; unknown hashes are ignored. */
  delete(hashes: string[]): Promise<void>;
  /** Every hash held, read from storage, so it is also true after a restart or an eviction. */
  list(): Promise<string[]>;
  stats(): Promise<ChunkStoreStats>;
  close?(): Promise<void>;
}
