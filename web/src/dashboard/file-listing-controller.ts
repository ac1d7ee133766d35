import type { ReactiveControllerHost } from 'lit';
import type { FileListing, ShoalClient } from '../../../shared/api-client.ts';
import { toShoalError, type ShoalError } from '../../../shared/errors.ts';

/** Rows a page shows: a screenful or two, whatever the number of files stored. */
export const PAGE_SIZE = 100;
export const FOLDER_DELIMITER = '/';

/** A page of the listing, replaced whole on every change so elements given it update. */
export interface ListingView {
  /** The folder shown, '' or a prefix ending in '/'. */
  folder: string;
  /** What names in the folder must start with. */
  search: string;
  /** Full names of the folders of this page, each ending in '/'. */
  folders: string[];
  files: FileListing[];
  /** 0 for the first page. */
  page: number;
  hasNext: boolean;
  loaded: boolean;
  error: ShoalError | null;
  /** When the rows shown were fetched: once the gateway stops answering, they are that old. */
  fetchedAt: number | null;
}

/**
 * One folder of the stored files, a page at a time, as the gateway pages them: the page never
 * holds more than PAGE_SIZE rows however many files there are. Reloads never overlap; one asked
 * for during a load runs once after it, and an answer to an older question is dropped.
 */
export class FileListingController {
  view: ListingView = { folder: '', search: '', folders: [], files: [], page: 0, hasNext: false, loaded: false, error: null, fetchedAt: null };
  readonly #host: ReactiveControllerHost;
  readonly #client: ShoalClient;
  /** The `after` cursor of each page reached so far; page 0 starts at the beginning. */
  #cursors: string[] = [''];
  #question = 0;
  #loading = false;
  #again = false;

  constructor(host: ReactiveControllerHost, client: ShoalClient) {
    this.#host = host;
    this.#client = client;
  }

  open(folder: string): void {
    this.#restart({ folder, search: '' });
  }

  search(text: string): void {
    this.#restart({ search: text });
  }

  next(): void {
    if (!this.view.hasNext) return;
    this.#go(this.view.page + 1);
  }

  previous(): void {
    if (this.view.page > 0) this.#go(this.view.page - 1);
  }

  /** Fetches the page shown again, e.g. after a file was added or removed. */
  reload(): void {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    this.#loading = true;
    void this.#load().finally(() => {
      this.#loading = false;
      if (this.#again) {
        this.#again = false;
        this.reload();
      }
    });
  }

  #restart(change: Partial<Pick<ListingView, 'folder' | 'search'>>): void {
    this.#cursors = [''];
    this.#ask({ ...change, page: 0 });
  }

  #go(page: number): void {
    this.#ask({ page });
  }

  /** A new question: the answer to one still on its way is dropped, and this one is asked next. */
  #ask(change: Partial<ListingView>): void {
    this.#change({ ...change, loaded: false });
    this.#question++;
    this.reload();
  }

  async #load(): Promise<void> {
    const question = ++this.#question;
    const { folder, search, page } = this.view;
    try {
      const answer = await this.#client.listPage({ prefix: folder + search, delimiter: FOLDER_DELIMITER, limit: PAGE_SIZE, after: this.#cursors[page] });
      if (question !== this.#question) return;
      if (answer.next !== undefined) this.#cursors[page + 1] = answer.next;
      this.#change({
        folders: answer.prefixes ?? [],
        files: answer.files,
        hasNext: answer.next !== undefined,
        loaded: true,
        error: null,
        fetchedAt: Date.now(),
      });
    } catch (err) {
      if (question === this.#question) this.#change({ error: toShoalError(err) });
    }
  }

  #change(change: Partial<ListingView>): void {
    this.view = { ...this.view, ...change };
    this.#host.requestUpdate();
  }
}
