import { toShoalError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { IdbChunkStore } from '../../web/src/node/idb-chunk-store.ts';

/** Runs inside Chromium: one store the spec puts a chunk into, damages on disk, and reads again. */
const store = new IdbChunkStore('lost-blob', 1024 ** 3);

const page = {
  async put(size: number): Promise<string> {
    const data = new Uint8Array(size);
    // getRandomValues fills at most 64 KiB per call.
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
    const hash = await sha256Hex(data);
    await store.put(hash, data);
    return hash;
  },
  /** What a range read of the whole chunk answers: how many bytes, or the error's code. */
  async getRange(hash: string, size: number): Promise<{ code: string; length?: number }> {
    return store.getRange(hash, 0, size).then(
      (bytes) => ({ code: 'read', length: bytes.length }),
      (err) => ({ code: toShoalError(err).code }),
    );
  },
  async get(hash: string): Promise<{ code: string; held: boolean; listed: boolean }> {
    const code = await store.get(hash).then(
      () => 'read',
      (err) => toShoalError(err).code,
    );
    return { code, held: await store.has(hash), listed: (await store.list()).includes(hash) };
  },
};

declare global {
  interface Window {
    idbLostBlob: typeof page;
  }
}
window.idbLostBlob = page;
