import { ChunkCipher, DATA_KEY_FILE, DATA_KEY_PREFIX } from '../gateway/files/chunk-cipher.ts';
import { loadSecret } from '../gateway/secret-file.ts';

/**
 * The ids the nodes store `data`'s chunks under when a gateway with data directory `dataDir`
 * writes it in chunks of `chunkSize`: sealing is deterministic, so a test can find a file's
 * copies on the nodes without asking the gateway.
 */
export function chunkIds(dataDir: string, data: Uint8Array, chunkSize: number): string[] {
  const cipher = new ChunkCipher(loadSecret(dataDir, DATA_KEY_FILE, DATA_KEY_PREFIX));
  const ids: string[] = [];
  for (let at = 0; at < data.length; at += chunkSize) ids.push(cipher.seal(data.subarray(at, at + chunkSize)).chunk.hash);
  return ids;
}
