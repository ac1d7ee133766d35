import type { ChunkStore } from './chunk-store.ts';
import { ShoalError } from './errors.ts';

export interface ScrubberOptions {
  /** Pause between the end of one full pass and the start of the next. */
  intervalMs: number;
  /** Read budget, so scrubbing never competes seriously with real traffic. */
  bytesPerSecond: number;
  onCorrupt: (hash: string) => void;
  onPass?: (result: { checked: number; corrupt: number }) => void;
  /** A pass could not run (the store could not be listed); the next one tries again. */
  onFailure?: (err: unknown) => void;
}

/**
 * Re-reads every chunk a node holds, slowly, forever. The store's own read path re-hashes and drops
 * a damaged chunk, so a scrub is just a paced walk of get(); what it reports lets the gateway
 * restore the replica elsewhere before a second failure can lose the data.
 */
export class Scrubber {
  readonly #store: ChunkStore;
  readonly #options: ScrubberOptions;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;

  constructor(store: ChunkStore, options: ScrubberOptions) {
    this.#store = store;
    this.#options = options;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(this.#options.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Starts a pass at once unless one is under way. */
  runNow(): void {
    if (this.#stopped || this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#running = this.#pass()
      .catch((err: unknown) => this.#options.onFailure?.(err))
      .finally(() => {
        this.#running = null;
        this.#schedule(this.#options.intervalMs);
      });
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.runNow();
    }, delayMs);
  }

  async #pass(): Promise<void> {
    let checked = 0;
    let corrupt = 0;
    for (const hash of await this.#store.list()) {
      if (this.#stopped) return;
      let bytes = 0;
      try {
        bytes = (await this.#store.get(hash)).length;
        checked++;
      } catch (err) {
        if (err instanceof ShoalError && err.code === 'CHUNK_CORRUPT') {
          corrupt++;
          this.#options.onCorrupt(hash);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, (bytes / this.#options.bytesPerSecond) * 1000));
    }
    this.#options.onPass?.({ checked, corrupt });
  }
}
