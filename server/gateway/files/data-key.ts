import { ShoalError } from '../../../shared/errors.ts';
import { allFiles } from '../metadata/all-files.ts';
import type { FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import { loadSecret, readSecret } from '../secret-file.ts';
import { DATA_KEY_FILE, DATA_KEY_PREFIX } from './chunk-cipher.ts';

/**
 * The cluster's data key, made only where no file needs an earlier one. A data directory that lost
 * `data-key` (copied without it, restored from a partial backup, a second gateway on shared
 * metadata) while the metadata lists encrypted chunks is refused: a new key would open none of
 * them, and every read would fail its tags and condemn good copies as corrupt.
 */
export async function loadDataKey(dataDir: string, metadata: MetadataStore): Promise<string> {
  const existing = readSecret(dataDir, DATA_KEY_FILE, DATA_KEY_PREFIX);
  if (existing !== null) return existing;
  // Checked only when the key is missing: once per cluster (its first start, or its upgrade from plaintext).
  const sealed = await firstSealed(metadata);
  if (sealed) {
    throw new ShoalError(
      'CONFLICT',
      `${dataDir} has no ${DATA_KEY_FILE}, but the metadata lists encrypted files (${JSON.stringify(sealed.name)} among them) that only it opens: ` +
        `put it back with shoal key import --data ${dataDir} (from shoal key export) or restore it from a backup of the data directory`,
    );
  }
  return loadSecret(dataDir, DATA_KEY_FILE, DATA_KEY_PREFIX);
}

async function firstSealed(metadata: MetadataStore): Promise<FileRecord | undefined> {
  for await (const file of allFiles(metadata)) if (file.chunks.some((chunk) => chunk.key !== undefined)) return file;
  return undefined;
}
