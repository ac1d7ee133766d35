import { open } from 'node:fs/promises';

/**
 * Directory fsyncs, coalesced. A sync asked for while another of the same directory waits to
 * start joins it: that one starts after the asker's change, so it covers it. One asked for while
 * one runs waits for it and starts after, since the running one may have begun before the change.
 * Concurrent puts into a directory, and new directories under one parent, share a directory fsync.
 */
export class DirSyncs {
  /** Syncs asked for and not started yet, by directory. */
  readonly #waiting = new Map<string, Promise<void>>();
  readonly #running = new Map<string, Promise<void>>();

  sync(dir: string): Promise<void> {
    const waiting = this.#waiting.get(dir);
    if (waiting) return waiting;
    const next = (this.#running.get(dir) ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        this.#waiting.delete(dir);
        const run = syncDir(dir);
        this.#running.set(dir, run);
        const done = (): void => {
          if (this.#running.get(dir) === run) this.#running.delete(dir);
        };
        run.then(done, done);
        return run;
      });
    this.#waiting.set(dir, next);
    return next;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
