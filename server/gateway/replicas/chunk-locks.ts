import { KeyedLock } from '../../../shared/keyed-lock.ts';

/**
 * The one rule under which copies on nodes change. An upload pins each chunk it stores until its
 * file is committed, and places the chunk while holding the chunk's lock; a download pins the
 * chunks of the version it reads until it has read them. Every removal of a copy
 * holds the locks of the chunks it removes and skips pinned ones. So either the removal finishes
 * first and the upload, reading the holders under the lock, writes fresh copies; or the upload
 * pinned first and the removal leaves the chunk alone.
 */
export class ChunkLocks {
  readonly #pins = new Map<string, number>();
  readonly #lock = new KeyedLock();

  pin(hash: string): void {
    this.#pins.set(hash, (this.#pins.get(hash) ?? 0) + 1);
  }

  /** True when this was the last pin of the hash. */
  unpin(hash: string): boolean {
    const count = (this.#pins.get(hash) ?? 0) - 1;
    if (count > 0) this.#pins.set(hash, count);
    else this.#pins.delete(hash);
    return count <= 0;
  }

  /** How many uploads and downloads pin the hash now. */
  pinCount(hash: string): number {
    return this.#pins.get(hash) ?? 0;
  }

  isPinned(hash: string): boolean {
    return this.#pins.has(hash);
  }

  /** Runs `work` holding the locks of `hashes`. */
  locked<T>(hashes: Iterable<string>, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(hashes, work);
  }

  /** Runs `work` holding the locks of `hashes`, on those that no upload has pinned. */
  removing<T>(hashes: Iterable<string>, work: (unpinned: string[]) => Promise<T>): Promise<T> {
    const all = [...hashes];
    return this.#lock.run(all, () => work(all.filter((hash) => !this.isPinned(hash))));
  }
}
