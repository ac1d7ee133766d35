import { test } from 'node:test';
import { chunkStoreContract } from './chunk-store.contract.ts';
import { MemoryChunkStore } from './memory-chunk-store.ts';

for (const c of chunkStoreContract(async (capacity) => {
  const store = new MemoryChunkStore(capacity);
  return { store, corrupt: async (hash) => store.corrupt(hash), cleanup: async () => {} };
})) {
  test(`MemoryChunkStore: ${c.name}`, c.run);
}
