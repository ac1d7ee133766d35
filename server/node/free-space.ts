import { statfs } from 'node:fs/promises';

/** How old a statfs may be before it is taken again: others writing to the disk meanwhile are not counted. */
const MAX_AGE_MS = 250;

/**
 * The free space of a disk for a stream of appends, without a statfs per append: the last statfs
 * less what was appended since. It is asked of the disk again once it is MAX_AGE_MS old, and at
 * every check once the estimate comes within `near` bytes of what is needed, so that the answer
 * that matters (full or not) always comes from the disk itself. A write this process makes that
 * the estimate does not see (another file, another process) can only be missed for MAX_AGE_MS, and
 * only past `near` bytes of headroom.
 */
export class FreeSpace {
  readonly #dir: string;
  readonly #near: number;
  #free = 0;
  #at = -Infinity;

  constructor(dir: string, near: number) {
    this.#dir = dir;
    this.#near = near;
  }

  /** The bytes free before `bytes` more are written, at least `needed` of them from the disk itself when it is close. */
  async before(bytes: number, needed: number): Promise<number> {
    if (performance.now() - this.#at > MAX_AGE_MS || this.#free - bytes < needed + this.#near) {
      const { bavail, bsize } = await statfs(this.#dir);
      this.#free = bavail * bsize;
      this.#at = performance.now();
    }
    return this.#free;
  }

  /** `bytes` were appended: they come off the estimate until the next statfs. */
  spent(bytes: number): void {
    this.#free -= bytes;
  }

  /** The disk refused a write: the next check asks it again. */
  forget(): void {
    this.#at = -Infinity;
  }
}
