import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';
import { isAlive } from '../lib/is-alive.ts';

const LOCK_FILE = 'gateway.lock';

export interface LockInfo {
  pid: number;
  url?: string;
  startedAt: string;
}

/**
 * One gateway per data directory: two writing one metadata store would each believe its own view.
 * The lock is a file created atomically (a hard link of a finished temp file), naming the process
 * that holds it; one left by a process that no longer runs is taken over.
 */
export class DataDirLock {
  readonly #path: string;
  readonly #startedAt = new Date().toISOString();

  private constructor(path: string) {
    this.#path = path;
  }

  static acquire(dataDir: string): DataDirLock {
    const lock = new DataDirLock(join(dataDir, LOCK_FILE));
    if (lock.#tryCreate()) return lock;
    const holder = lock.#read();
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new ShoalError(
        'CONFLICT',
        `the data directory ${dataDir} is in use by the gateway with pid ${holder.pid}${holder.url ? ` at ${holder.url}` : ''}: stop it, or give this one another --data`,
      );
    }
    lock.#clearStale(holder, dataDir);
    if (!lock.#tryCreate()) throw new ShoalError('CONFLICT', `another gateway took the data directory ${dataDir} at the same moment`);
    return lock;
  }

  /** The running gateway that holds `dataDir`, if any (for `shoal reset`, which must not pull it from under one). */
  static holder(dataDir: string): LockInfo | null {
    const holder = readLock(join(dataDir, LOCK_FILE));
    return holder && isAlive(holder.pid) ? holder : null;
  }

  /** Names where the holder listens, for the message another gateway gets; replaced whole, never seen half written. */
  listening(url: string): void {
    const temp = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ pid: process.pid, url, startedAt: this.#startedAt } satisfies LockInfo), { mode: 0o600 });
    renameSync(temp, this.#path);
  }

  /**
   * Moves a dead holder's lock aside. Two gateways may find the same stale lock: the one whose
   * rename moves a lock that is not the stale one it saw has taken a newer gateway's lock, puts it
   * back and gives way.
   */
  #clearStale(stale: LockInfo | null, dataDir: string): void {
    const aside = `${this.#path}.${process.pid}.stale`;
    try {
      renameSync(this.#path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const moved = readLock(aside);
    if (moved && stale && moved.pid !== stale.pid) {
      renameSync(aside, this.#path);
      throw new ShoalError('CONFLICT', `another gateway took the data directory ${dataDir} at the same moment`);
    }
    rmSync(aside, { force: true });
  }

  release(): void {
    if (this.#read()?.pid === process.pid) rmSync(this.#path, { force: true });
  }

  #tryCreate(): boolean {
    const temp = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ pid: process.pid, startedAt: this.#startedAt } satisfies LockInfo), { mode: 0o600 });
    try {
      linkSync(temp, this.#path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      unlinkSync(temp);
    }
  }

  #read(): LockInfo | null {
    return readLock(this.#path);
  }
}

function readLock(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}
