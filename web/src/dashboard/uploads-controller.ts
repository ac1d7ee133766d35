import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ShoalClient } from '../../../shared/api-client.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { uploadWithProgress } from './upload-request.ts';

export type UploadState = 'queued' | 'uploading' | 'finishing' | 'done' | 'failed';

export interface Upload {
  id: number;
  file: File;
  sentBytes: number;
  state: UploadState;
  startedAt?: number;
  finishedAt?: number;
  error?: ErrorText;
}

/** Two uploads at a time keeps each one quick and every progress bar moving. */
const CONCURRENT_UPLOADS = 2;

/**
 * The files page's uploads: a queue that starts files as slots free up and tells the page of every
 * step, so each file gets its own progress bar and its own readable error.
 */
export class UploadsController implements ReactiveController {
  uploads: Upload[] = [];
  readonly #host: ReactiveControllerHost;
  readonly #client: ShoalClient;
  readonly #onStored: () => void;
  readonly #abort = new AbortController();
  #nextId = 1;

  constructor(host: ReactiveControllerHost, client: ShoalClient, onStored: () => void) {
    this.#host = host;
    this.#client = client;
    this.#onStored = onStored;
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#abort.abort();
  }

  add(files: File[]): void {
    this.uploads = [...this.uploads, ...files.map((file): Upload => ({ id: this.#nextId++, file, sentBytes: 0, state: 'queued' }))];
    this.#pump();
  }

  clearFinished(): void {
    this.uploads = this.uploads.filter((u) => u.state !== 'done' && u.state !== 'failed');
    this.#host.requestUpdate();
  }

  #pump(): void {
    const running = this.uploads.filter((u) => u.state === 'uploading' || u.state === 'finishing').length;
    for (const upload of this.uploads.filter((u) => u.state === 'queued').slice(0, CONCURRENT_UPLOADS - running)) {
      void this.#run(upload);
    }
    this.#host.requestUpdate();
  }

  async #run(upload: Upload): Promise<void> {
    const { id, file } = upload;
    this.#update(id, { state: 'uploading', startedAt: Date.now() });
    try {
      await uploadWithProgress(
        this.#client,
        file.name,
        file,
        (sentBytes) => this.#update(id, { sentBytes, state: sentBytes >= file.size ? 'finishing' : 'uploading' }),
        this.#abort.signal,
      );
      this.#update(id, { state: 'done', sentBytes: file.size, finishedAt: Date.now() });
      this.#onStored();
    } catch (err) {
      this.#update(id, { state: 'failed', finishedAt: Date.now(), error: describeError(err) });
    }
    this.#pump();
  }

  /** Uploads are replaced, never mutated, so elements given the list see each change. */
  #update(id: number, change: Partial<Upload>): void {
    this.uploads = this.uploads.map((u) => (u.id === id ? { ...u, ...change } : u));
    this.#host.requestUpdate();
  }
}
