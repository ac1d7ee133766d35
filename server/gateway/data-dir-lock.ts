import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';
import { isAlive } from '../lib/is-alive.ts';

interface LockInfo {
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
    const lock = new DataDirLock(join(dataDir, 'gateway.lock'));
    if (lock.#tryCreate()) return lock;
    const holder = lock.#read();
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new ShoalError(
        'CONFLICT',
        `the data directory ${dataDir} is in use by the gateway with pid ${holder.pid}${holder.url ? ` at ${holder.url}` : ''}: stop it, or give this one another --data`,
      );
    }
    rmSync(lock.#path, { force: true });
    if (!lock.#tryCreate()) throw new ShoalError('CONFLICT', `another gateway took the data directory ${dataDir} at the same moment`);
    return lock;
  }

  /** Names where the holder listens, for the message another gateway gets. */
  listening(url: string): void {
    writeFileSync(this.#path, JSON.stringify({ pid: process.pid, url, startedAt: this.#startedAt } satisfies LockInfo));
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
    try {
      return JSON.parse(readFileSync(this.#path, 'utf8')) as LockInfo;
    } catch {
      return null;
    }
  }
}
