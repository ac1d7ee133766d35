import { Semaphore } from './semaphore.ts';

/** A buffer lent by a BufferPool: `release` gives it back, once; the borrower must not touch `bytes` after. */
export interface PooledBuffer {
  readonly bytes: Uint8Array;
  /**
   * The buffer's memory came back as `bytes` after it was transferred (to a worker thread and
   * back): from now on `bytes` is this, and `release` gives this back. A buffer transferred away
   * and never returned is simply not given back: the pool makes a new one in its place.
   */
  moved(bytes: Uint8Array): void;
  release(): void;
}

/**
 * Large buffers lent at most `count` at a time (more wait, first come first served) and used
 * again once given back. A 4 MiB buffer left to the garbage collector costs far more than its
 * allocation: V8 counts every ArrayBuffer as external memory and runs a full mark-compact for each
 * 64 MB of them, so a gateway allocating a few buffers per chunk spent a third of its upload CPU
 * in the collector. Buffers nobody asked for within `idleMs` are dropped, so an idle process does
 * not keep the pool's memory.
 */
export class BufferPool {
  readonly #permits: Semaphore;
  readonly #idleMs: number;
  readonly #free: Uint8Array[] = [];
  #trim: ReturnType<typeof setTimeout> | null = null;

  constructor(count: number, idleMs = 10_000) {
    this.#permits = new Semaphore(count);
    this.#idleMs = idleMs;
  }

  /** A buffer of exactly `size` bytes, once fewer than `count` are lent. Its content is whatever its last borrower left. */
  async acquire(size: number): Promise<PooledBuffer> {
    const permit = await this.#permits.acquire();
    let free: Uint8Array | undefined;
    while ((free = this.#free.pop()) !== undefined && free.length !== size);
    let bytes = free ?? new Uint8Array(size);
    let lent = true;
    return {
      get bytes() {
        return bytes;
      },
      moved: (back) => {
        if (lent) bytes = back;
      },
      release: () => {
        if (!lent) return;
        lent = false;
        // Transferred away and not back: its view is empty now, and of no use to anyone.
        if (bytes.length === size) this.#free.push(bytes);
        this.#scheduleTrim();
        permit();
      },
    };
  }

  #scheduleTrim(): void {
    if (this.#trim) clearTimeout(this.#trim);
    this.#trim = setTimeout(() => {
      this.#trim = null;
      this.#free.length = 0;
    }, this.#idleMs);
    this.#trim.unref();
  }
}
