import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
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
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Written whole and fsynced under another name, then linked into place: the name never shows a
  // partial secret, and of two processes creating it at once, one wins and both use its secret.
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${prefix}${randomBytes(32).toString('base64url')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
  return checked(read(path) ?? '', path, prefix);
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
