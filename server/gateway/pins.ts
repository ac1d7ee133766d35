/**
 * Chunks an upload has stored but not yet committed. Deletes and garbage collection skip pinned
 * hashes, so a chunk is never removed from nodes in the window between its replicas acking and the
 * file that needs it being committed.
 *
 * Pins alone leave one gap: a removal that checked the pins just before an upload pinned the same
 * chunk could delete copies the upload then counts on. So removals run under per-chunk locks that
 * an upload also takes while it decides where a chunk goes: either the removal finishes first and
 * the upload writes fresh copies, or the upload pins first and the removal skips the chunk.
 */
export class PinSet {
  readonly #counts = new Map<string, number>();
  readonly #locks = new Map<string, Promise<void>>();

  pin(hash: string): void {
    this.#counts.set(hash, (this.#counts.get(hash) ?? 0) + 1);
  }

  unpin(hash: string): void {
    const count = (this.#counts.get(hash) ?? 0) - 1;
    if (count > 0) this.#counts.set(hash, count);
    else this.#counts.delete(hash);
  }

  has(hash: string): boolean {
    return this.#counts.has(hash);
  }

  /** Runs `work` holding the locks of `hashes`, taken in sorted order so two holders never deadlock. */
  async locked<T>(hashes: string[], work: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const hash of [...new Set(hashes)].sort()) releases.push(await this.#acquire(hash));
      return await work();
    } finally {
      for (const release of releases) release();
    }
  }

  #acquire(hash: string): Promise<() => void> {
    const previous = this.#locks.get(hash) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.#locks.set(hash, tail);
    return previous.then(() => () => {
      release();
      if (this.#locks.get(hash) === tail) this.#locks.delete(hash);
    });
  }
}
