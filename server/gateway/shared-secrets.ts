import type { SharedSecret } from './cluster/cluster-binding.ts';
import { DATA_KEY_FILE, DATA_KEY_PREFIX } from './files/chunk-cipher.ts';
import { loadDataKey } from './files/data-key.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX } from './metadata/manifest.ts';
import type { MetadataStore } from './metadata/metadata-store.ts';
import { JOIN_SECRET_FILE, JOIN_SECRET_PREFIX } from './nodes/join-secret.ts';
import { S3_SEALING_KEY_FILE, S3_SEALING_KEY_PREFIX } from './s3/access-keys.ts';
import { loadSecret, readSecret } from './secret-file.ts';

/**
 * The secrets every gateway of a cluster must hold alike, as `shoal key export` writes them: the
 * data key (every chunk is sealed under it) and the manifest key, without which the data is lost;
 * the join secret nodes enrol with, and the key that seals S3 secrets in the metadata, without
 * which another gateway refuses what one accepted.
 */
export const SHARED_SECRET_FILES = [
  { file: DATA_KEY_FILE, prefix: DATA_KEY_PREFIX, required: true, neededBy: 'its encrypted files open with it only' },
  { file: MANIFEST_KEY_FILE, prefix: MANIFEST_KEY_PREFIX, required: true, neededBy: 'the manifests on its nodes were sealed with it' },
  { file: JOIN_SECRET_FILE, prefix: JOIN_SECRET_PREFIX, required: false, neededBy: 'its nodes enrol with it' },
  { file: S3_SEALING_KEY_FILE, prefix: S3_SEALING_KEY_PREFIX, required: false, neededBy: 'its S3 secrets in the metadata are sealed with it' },
] as const;

/** The shared secrets of `dataDir`, as the cluster binding checks and makes them. */
export function sharedSecrets(dataDir: string, metadata: MetadataStore): SharedSecret[] {
  return SHARED_SECRET_FILES.map(({ file, prefix, neededBy }) => ({
    file,
    neededBy,
    read: () => readSecret(dataDir, file, prefix),
    // The data key is made only where no file needs an earlier one.
    load: async () => (file === DATA_KEY_FILE ? loadDataKey(dataDir, metadata) : loadSecret(dataDir, file, prefix)),
  }));
}
