import { test } from 'node:test';
import { chunkStoreContract } from './chunk-store.contract.ts';
import { MemoryChunkBackend, MemoryChunkStore } from './memory-chunk-store.ts';

for (const c of chunkStoreContract(async (capacity) => {
  const backend = new MemoryChunkBackend();
  return { store: new MemoryChunkStore(capacity, backend), backend, cleanup: async () => {} };
})) {
  test(`MemoryChunkStore: ${c.name}`, c.run);
}
