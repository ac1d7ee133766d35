import { open, type FileHandle } from 'node:fs/promises';

/**
 * fsyncs a SQLite database's write-ahead log from the thread pool. A transaction committed with
 * `synchronous = NORMAL` is in the WAL but not yet on the disk; once this has resolved it is, just
 * as `FULL` would have made it, but without blocking the event loop for the fsync, and one call
 * covers every transaction committed before it.
 */
export class WalSync {
  readonly #path: string;
  #handle: Promise<FileHandle> | null = null;

  constructor(databasePath: string) {
    this.#path = `${databasePath}-wal`;
  }

  async sync(): Promise<void> {
    // The WAL exists once the database is in WAL mode and written to, and lives as long as the
    // connection: SQLite reuses it from its start after a checkpoint rather than replacing it.
    this.#handle ??= open(this.#path, 'r');
    this.#handle.catch(() => (this.#handle = null));
    await (await this.#handle).sync();
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await (await handle?.catch(() => null))?.close();
  }
}
