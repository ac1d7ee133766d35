import { ShoalError } from '../../shared/errors.ts';
import { readClusterId, storeClusterId } from '../gateway/cluster-identity.ts';
import { DataDirLock } from '../gateway/data-dir-lock.ts';
import { readSecret, storeSecret } from '../gateway/secret-file.ts';
import { SHARED_SECRET_FILES } from '../gateway/shared-secrets.ts';

/**
 * What a data directory must hold for its gateway to be one of its cluster's: the cluster's id and
 * the secrets its gateways share (gateway/shared-secrets.ts), the data key and the manifest key
 * first, without which the data is lost. `shoal key export` writes them out, for safekeeping or
 * for a second gateway; `shoal key import` puts them in a data directory (a new machine, another
 * gateway on the same metadata, or one whose directory was lost, before `shoal recover`).
 *
 * Version 1 held the data key and the manifest key only; it is still imported.
 */
const HEADER = 'shoal-keys 2';
const HEADERS = new Set(['shoal-keys 1', HEADER]);
const CLUSTER_ID = 'cluster-id';

interface Entry {
  name: string;
  required: boolean;
  read(dataDir: string): string | null;
  store(dataDir: string, value: string, replace: boolean): void;
}

const ENTRIES: Entry[] = [
  { name: CLUSTER_ID, required: false, read: readClusterId, store: storeClusterId },
  ...SHARED_SECRET_FILES.map(({ file, prefix, required }) => ({
    name: file,
    required,
    read: (dataDir: string) => readSecret(dataDir, file, prefix),
    store: (dataDir: string, value: string, replace: boolean) => storeSecret(dataDir, file, prefix, value, replace),
  })),
];

export function exportKeys(dataDir: string): string {
  const lines = ENTRIES.flatMap(({ name, required, read }) => {
    const value = read(dataDir);
    if (value === null && required) throw new ShoalError('NOT_FOUND', `${dataDir} has no ${name}: export the keys from the data directory of the gateway that wrote the files`);
    return value === null ? [] : [`${name} ${value}`];
  });
  return [HEADER, ...lines, ''].join('\n');
}

/**
 * Puts the keys of an export in `dataDir`. A different key (or cluster id) already there is
 * refused unless `replace`, before anything is written: what was written under it would become
 * unreadable. Says which were written.
 */
export function importKeys(dataDir: string, text: string, replace: boolean): string[] {
  const [header, ...lines] = text.split('\n').map((line) => line.trim()).filter(Boolean);
  if (!HEADERS.has(header ?? '')) throw new ShoalError('BAD_REQUEST', `not a key export of shoal key export (it starts with ${JSON.stringify(HEADER)})`);
  const given = new Map(lines.map((line) => line.split(' ', 2) as [string, string]));
  const unknown = [...given.keys()].filter((name) => !ENTRIES.some((entry) => entry.name === name));
  if (unknown.length > 0) throw new ShoalError('BAD_REQUEST', `the key export holds what this release does not know: ${unknown.join(', ')}`);
  const missing = ENTRIES.filter(({ name, required }) => required && !given.has(name)).map(({ name }) => name);
  if (missing.length > 0) throw new ShoalError('BAD_REQUEST', `the key export lacks ${missing.join(', ')}`);
  const changed = ENTRIES.filter(({ name, read }) => given.has(name) && read(dataDir) !== given.get(name));
  // A running gateway keeps the keys it started with and goes on writing under them: a key put in
  // beneath it would take effect at its next start, over files neither key then opens all of.
  const gateway = changed.length > 0 ? DataDirLock.holder(dataDir) : null;
  if (gateway) throw new ShoalError('CONFLICT', `the gateway with pid ${gateway.pid} is using ${dataDir}: stop it before importing keys`);
  const kept = replace ? [] : changed.filter(({ read }) => read(dataDir) !== null).map(({ name }) => name);
  if (kept.length > 0) {
    throw new ShoalError('CONFLICT', `${dataDir} holds another secret in ${kept.join(', ')}: it was kept (replacing it makes what it protects unreadable; --replace does)`);
  }
  for (const { name, store } of changed) store(dataDir, given.get(name)!, replace);
  return changed.map(({ name }) => name);
}
