/**
 * Where a node keeps chunks. Chunks are content-addressed by lowercase hex SHA-256.
 * Every implementation runs the shared contract suite in chunk-store.contract.ts.
 */
export interface ChunkStoreStats {
  usedBytes: number;
  chunkCount: number;
}

export interface ChunkStore {
  readonly capacityBytes: number;
  /** Verifies `data` hashes to `hash` (HASH_MISMATCH otherwise), enforces capacity (NODE_FULL), is durable on resolve. Idempotent. */
  put(hash: string, data: Uint8Array): Promise<void>;
  /** Re-hashes on every read: CHUNK_NOT_FOUND when absent, CHUNK_CORRUPT (and the bad copy dropped) when the bytes no longer match. */
  get(hash: string): Promise<Uint8Array>;
  has(hash: string): Promise<boolean>;
  /** Removes what exists; unknown hashes are ignored. */
  delete(hashes: string[]): Promise<void>;
  /** Every hash held, as the store knows it after a restart. */
  list(): Promise<string[]>;
  stats(): Promise<ChunkStoreStats>;
  close?(): Promise<void>;
}
