import { ShoalError } from '../../shared/errors.ts';
import { DataDirLock } from '../gateway/data-dir-lock.ts';
import { DATA_KEY_FILE, DATA_KEY_PREFIX } from '../gateway/files/chunk-cipher.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX } from '../gateway/metadata/manifest.ts';
import { readSecret, storeSecret } from '../gateway/secret-file.ts';

/**
 * The secrets without which the cluster's data is lost: the data key every chunk is encrypted
 * under, and the manifest key that tells the gateway's manifests from forgeries when the metadata
 * is rebuilt. `shoal key export` writes them out for safekeeping, `shoal key import` puts them in
 * a data directory again (a new machine, or one whose directory was lost, before `shoal recover`).
 */
const KEYS = [
  { file: DATA_KEY_FILE, prefix: DATA_KEY_PREFIX },
  { file: MANIFEST_KEY_FILE, prefix: MANIFEST_KEY_PREFIX },
] as const;

const HEADER = 'shoal-keys 1';

export function exportKeys(dataDir: string): string {
  const lines = KEYS.map(({ file, prefix }) => {
    const secret = readSecret(dataDir, file, prefix);
    if (secret === null) throw new ShoalError('NOT_FOUND', `${dataDir} has no ${file}: export the keys from the data directory of the gateway that wrote the files`);
    return `${file} ${secret}`;
  });
  return [HEADER, ...lines, ''].join('\n');
}

/**
 * Puts the keys of an export in `dataDir`. A different key already there is refused unless
 * `replace`: what was written under it would become unreadable. Says which keys were written.
 */
export function importKeys(dataDir: string, text: string, replace: boolean): string[] {
  const [header, ...lines] = text.split('\n').map((line) => line.trim()).filter(Boolean);
  if (header !== HEADER) throw new ShoalError('BAD_REQUEST', `not a key export of shoal key export (it starts with ${JSON.stringify(HEADER)})`);
  const given = new Map(lines.map((line) => line.split(' ', 2) as [string, string]));
  const missing = KEYS.filter(({ file }) => !given.has(file)).map(({ file }) => file);
  if (missing.length > 0) throw new ShoalError('BAD_REQUEST', `the key export lacks ${missing.join(', ')}`);
  const changed = KEYS.filter(({ file, prefix }) => readSecret(dataDir, file, prefix) !== given.get(file));
  // A running gateway keeps the keys it started with and goes on writing under them: a key put in
  // beneath it would take effect at its next start, over files neither key then opens all of.
  const gateway = changed.length > 0 ? DataDirLock.holder(dataDir) : null;
  if (gateway) throw new ShoalError('CONFLICT', `the gateway with pid ${gateway.pid} is using ${dataDir}: stop it before importing keys`);
  for (const { file, prefix } of changed) storeSecret(dataDir, file, prefix, given.get(file)!, replace);
  return changed.map(({ file }) => file);
}
