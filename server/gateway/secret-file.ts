import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';

/**
 * A secret of the cluster's, in the data directory: created with it (readable by its owner only)
 * as `prefix` and 32 random bytes, and read by every later start, so local commands use it without
 * being told. A file that does not hold a secret of that form (truncated by a crash or by hand) is
 * refused: an empty join secret would admit anyone.
 */
export function loadSecret(dataDir: string, file: string, prefix: string): string {
  const path = join(dataDir, file);
  const existing = read(path);
  if (existing !== null) return checked(existing, path, prefix);
  // Of two processes creating it at once, one wins and both use its secret.
  place(dataDir, path, `${prefix}${randomBytes(32).toString('base64url')}`, false);
  return checked(read(path) ?? '', path, prefix);
}

/** The secret in `dataDir/file`, or null when there is none; one not of the form is refused as in loadSecret. */
export function readSecret(dataDir: string, file: string, prefix: string): string | null {
  const path = join(dataDir, file);
  const existing = read(path);
  return existing === null ? null : checked(existing, path, prefix);
}

/**
 * Puts `secret` (of loadSecret's form, as a backup of one holds it) in `dataDir/file`, readable by
 * its owner only. Another secret already there is kept and CONFLICT thrown unless `replace`.
 */
export function storeSecret(dataDir: string, file: string, prefix: string, secret: string, replace: boolean): void {
  const path = join(dataDir, file);
  checked(secret, `the secret for ${file}`, prefix);
  place(dataDir, path, secret, replace);
  const now = read(path);
  if (now !== secret) throw new ShoalError('CONFLICT', `${path} holds another secret: it was kept (replacing it makes what it protects unreadable)`);
}

/**
 * Written whole and fsynced under another name, then linked (or with `replace`, renamed) into
 * place: the name never shows a partial secret. Without `replace`, a file already there is kept.
 */
export function place(dataDir: string, path: string, secret: string, replace: boolean): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${secret}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (replace) return renameSync(temp, path);
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function checked(secret: string, path: string, prefix: string): string {
  if (!secret.startsWith(prefix) || !/^[A-Za-z0-9_-]{43}$/.test(secret.slice(prefix.length))) {
    throw new ShoalError('CONFLICT', `${path} does not hold a secret: restore it from a backup of the data directory`);
  }
  return secret;
}
