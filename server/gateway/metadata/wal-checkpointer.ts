import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, CommonJS evaluated from a string so that it runs the same from the TypeScript
 * sources and from the compiled package. Its own connection copies the WAL into the database
 * (PASSIVE: never waiting for, nor blocking, the gateway's writes), fsyncs included.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  let error = null;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    error = String(err);
  }
  parentPort.postMessage(error);
});
`;

/** Files committed between checkpoints: about 20 WAL pages each, near SQLite's own 1,000-page default. */
const FILES_PER_CHECKPOINT = 64;

/**
 * The WAL size (pages) at which the gateway's own connection checkpoints after all: under a steady
 * stream of commits the worker's checkpoint always ends a few frames behind, and SQLite starts the
 * WAL over only when a writer finds every frame copied, so without this the WAL would grow for as
 * long as the writes go on (gigabytes in a minute of small files). Then it copies only what the
 * worker has not yet, and the WAL starts over at its next write.
 */
export const BACKSTOP_PAGES = 5_000;

/** What else writes (node presence, tokens) is checkpointed at least this often. */
const CHECKPOINT_EVERY_MS = 5_000;

/**
 * Checkpoints a SQLite database's WAL from a worker thread. SQLite's automatic checkpoint runs in
 * the connection that commits, on the event loop: every thousand pages it wrote the pages into the
 * database and fsynced it there, stalling every request for milliseconds each time, about a
 * fifth of a small file's commit. The gateway's connection keeps its own only as a backstop
 * (`wal_autocheckpoint = BACKSTOP_PAGES`) and asks this one instead: after enough commits, and on
 * a timer for the few writes that are not file commits. One checkpoint runs at a time.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #timer: NodeJS.Timeout;
  #running = false;
  #committed = 0;
  #closed: Promise<void> | null = null;
  #exited = false;

  /** `stopped` runs if the worker ends before close(): the connection then checkpoints itself again. */
  constructor(databasePath: string, stopped: () => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path: databasePath } });
    this.#worker.unref();
    this.#worker.on('message', (error: string | null) => {
      this.#running = false;
      if (error) console.error(`shoal: WAL checkpoint failed (retried with the next): ${error}`);
    });
    this.#worker.on('error', (err) => console.error('shoal: the WAL checkpoint worker stopped:', err));
    this.#worker.on('exit', () => {
      this.#exited = true;
      clearInterval(this.#timer);
      if (!this.#closed) stopped();
    });
    this.#timer = setInterval(() => this.#checkpoint(), CHECKPOINT_EVERY_MS);
    this.#timer.unref();
  }

  /** Counts `files` committed, checkpointing once enough were. */
  committed(files: number): void {
    this.#committed += files;
    if (this.#committed >= FILES_PER_CHECKPOINT) this.#checkpoint();
  }

  #checkpoint(): void {
    if (this.#running || this.#closed || this.#exited) return;
    this.#running = true;
    this.#committed = 0;
    this.#worker.postMessage('checkpoint');
  }

  /** Closes the worker's connection, so that the gateway's, closed last, checkpoints and removes the WAL. */
  close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#exited) return Promise.resolve();
    this.#closed ??= new Promise<void>((resolve) => {
      // Held until it has exited: unreferenced, awaiting it would leave the event loop empty.
      this.#worker.ref();
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage('close');
    });
    return this.#closed;
  }
}
