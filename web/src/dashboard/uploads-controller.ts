import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Upload as TusUpload } from 'tus-js-client';
import type { ShoalClient } from '../../../shared/api-client.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { forgetLeftUpload, leftUploads, resumableUpload } from './tus-upload.ts';

/**
 * queued: waits for a slot; uploading; waiting: the connection dropped, it carries on once the
 * browser is online; finishing: every byte sent, the gateway commits the file; left: a previous
 * visit of the page left it unfinished, and choosing the same file carries on.
 */
export type UploadState = 'queued' | 'uploading' | 'waiting' | 'finishing' | 'done' | 'failed' | 'cancelled' | 'left';

export interface Upload {
  id: number;
  /** The name it is stored under: the folder it was dropped in, then the file's name. */
  name: string;
  size: number;
  file?: File;
  sentBytes: number;
  /** The offset it carried on from, when the gateway held part of it already. */
  resumedFrom: number;
  state: UploadState;
  startedAt?: number;
  finishedAt?: number;
  error?: ErrorText;
  /** For a left upload: the key its address is kept under in this browser. */
  key?: string;
}

/** Two uploads at a time keeps each one quick and every progress bar moving. */
const CONCURRENT_UPLOADS = 2;
/** While waiting for the connection, how often to try again besides the browser's `online` event. */
const WAITING_RETRY_MS = 3000;

const FINISHED = new Set<UploadState>(['done', 'failed', 'cancelled']);
/** What a paused upload says: nothing is lost, it goes on by itself. */
const WAITING_TITLES = {
  GATEWAY_UNREACHABLE: 'The connection to the gateway dropped. The upload carries on from its last stored chunk once the gateway can be reached.',
};

/**
 * The files page's uploads: a queue that starts files as slots free up, each a resumable upload
 * (tus), and tells the page of every step, so each file gets its own progress bar and its own
 * readable error. A dropped connection pauses an upload until the browser is online again; a
 * reload leaves it listed as left, to carry on when its file is chosen again.
 */
export class UploadsController implements ReactiveController {
  uploads: Upload[] = [];
  readonly #host: ReactiveControllerHost;
  readonly #client: ShoalClient;
  readonly #onStored: () => void;
  readonly #running = new Map<number, TusUpload>();
  readonly #waiting = new Map<number, ReturnType<typeof setInterval>>();
  #nextId = 1;
  readonly #onOnline = () => {
    for (const id of this.#waiting.keys()) this.#resume(id);
  };

  constructor(host: ReactiveControllerHost, client: ShoalClient, onStored: () => void) {
    this.#host = host;
    this.#client = client;
    this.#onStored = onStored;
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener('online', this.#onOnline);
    void this.#findLeft();
  }

  hostDisconnected(): void {
    window.removeEventListener('online', this.#onOnline);
    for (const upload of this.#running.values()) void upload.abort(false);
    for (const timer of this.#waiting.values()) clearInterval(timer);
  }

  /** Queues `files` to be stored in `folder`; one matching an upload left unfinished takes its place. */
  add(files: File[], folder = ''): void {
    const added = files.map((file): Upload => ({ id: this.#nextId++, name: folder + file.name, size: file.size, file, sentBytes: 0, resumedFrom: 0, state: 'queued' }));
    const taken = new Set(added.map((u) => `${u.name}\u0000${u.size}`));
    this.uploads = [...this.uploads.filter((u) => u.state !== 'left' || !taken.has(`${u.name}\u0000${u.size}`)), ...added];
    this.#pump();
  }

  clearFinished(): void {
    this.uploads = this.uploads.filter((u) => !FINISHED.has(u.state));
    this.#host.requestUpdate();
  }

  /** Stops an upload and has the gateway release what it stored; a left one is forgotten the same way. */
  cancel(id: number): void {
    const upload = this.uploads.find((u) => u.id === id);
    if (!upload) return;
    this.#stopWaiting(id);
    const running = this.#running.get(id);
    this.#running.delete(id);
    if (running) void running.abort(true).catch(() => {});
    if (upload.key) void forgetLeftUpload(this.#client, upload.key);
    this.#update(id, { state: 'cancelled', finishedAt: Date.now() });
    this.#pump();
  }

  async #findLeft(): Promise<void> {
    const left = await leftUploads(this.#client).catch(() => []);
    const known = new Set(this.uploads.map((u) => `${u.name}\u0000${u.size}`));
    const rows = left
      .filter((l) => !known.has(`${l.name}\u0000${l.size}`))
      .map((l): Upload => ({ id: this.#nextId++, name: l.name, size: l.size, sentBytes: l.offset, resumedFrom: l.offset, state: 'left', key: l.key }));
    if (rows.length === 0) return;
    this.uploads = [...rows, ...this.uploads];
    this.#host.requestUpdate();
  }

  #pump(): void {
    const running = this.uploads.filter((u) => u.state === 'uploading' || u.state === 'finishing' || u.state === 'waiting').length;
    for (const upload of this.uploads.filter((u) => u.state === 'queued').slice(0, CONCURRENT_UPLOADS - running)) {
      void this.#start(upload);
    }
    this.#host.requestUpdate();
  }

  async #start(upload: Upload): Promise<void> {
    const { id, name, file } = upload;
    this.#update(id, { state: 'uploading', startedAt: Date.now() });
    try {
      const started = await resumableUpload(this.#client, name, file!, {
        onProgress: (sentBytes) => this.#whileActive(id, { sentBytes, state: sentBytes >= upload.size ? 'finishing' : 'uploading' }),
        onStored: () => this.#stopWaiting(id),
        onSuccess: () => {
          this.#running.delete(id);
          this.#update(id, { state: 'done', sentBytes: upload.size, finishedAt: Date.now(), error: undefined });
          this.#onStored();
          this.#pump();
        },
        onError: (error, retryable) => {
          if (!this.#running.has(id)) return;
          if (retryable) {
            this.#wait(id, describeError(error, WAITING_TITLES));
            return;
          }
          this.#running.delete(id);
          this.#update(id, { state: 'failed', finishedAt: Date.now(), error: describeError(error) });
          this.#pump();
        },
      });
      this.#running.set(id, started.upload);
      this.#update(id, { resumedFrom: started.resumedFrom, sentBytes: started.resumedFrom });
      started.upload.start();
    } catch (err) {
      this.#update(id, { state: 'failed', finishedAt: Date.now(), error: describeError(err) });
      this.#pump();
    }
  }

  /** The connection dropped: the upload carries on when the browser is online, or at the next try. */
  #wait(id: number, error: ErrorText): void {
    this.#update(id, { state: 'waiting', error });
    if (!this.#waiting.has(id)) this.#waiting.set(id, setInterval(() => navigator.onLine && this.#resume(id), WAITING_RETRY_MS));
  }

  #resume(id: number): void {
    const upload = this.#running.get(id);
    if (!upload) return;
    this.#stopWaiting(id);
    this.#update(id, { state: 'uploading', error: undefined });
    // start() asks the gateway for its offset first, so it sends only what is not stored yet.
    upload.start();
  }

  #stopWaiting(id: number): void {
    clearInterval(this.#waiting.get(id));
    this.#waiting.delete(id);
  }

  /** Progress from a request still under way, ignored once the upload was cancelled. */
  #whileActive(id: number, change: Partial<Upload>): void {
    if (this.#running.has(id)) this.#update(id, change);
  }

  /** Uploads are replaced, never mutated, so elements given the list see each change. */
  #update(id: number, change: Partial<Upload>): void {
    this.uploads = this.uploads.map((u) => (u.id === id ? { ...u, ...change } : u));
    this.#host.requestUpdate();
  }
}
