import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ClusterHealth, FileDetail } from '../../../shared/api-client.ts';
import { client } from '../common/api.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { plural } from '../common/format.ts';
import { baseStyles } from '../common/styles.ts';
import { FileListingController, FOLDER_DELIMITER } from './file-listing-controller.ts';
import type { ClusterView } from './live-cluster-controller.ts';
import './shoal-file-detail.ts';
import './shoal-file-drop.ts';
import './shoal-file-list.ts';
import './shoal-upload-list.ts';
import { UploadsController } from './uploads-controller.ts';

/**
 * Browse, upload, download and delete files: one folder's page at a time (names split at '/'),
 * searched by how names start, with a file's chunks and their nodes on request. The folder shown
 * is in the address (`/files?folder=photos/`), so a reload or a link opens it again. Emits
 * `cluster-changed` when it changed what is stored.
 */
@customElement('shoal-files-page')
export class ShoalFilesPage extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .uploads {
        margin-top: 1rem;
      }
      .uploads header {
        display: flex;
        justify-content: space-between;
        align-items: center;
        margin-bottom: 0.75rem;
      }
      .empty {
        color: var(--muted);
        text-align: center;
        padding: 1.5rem 0;
      }
      .banner {
        margin-bottom: 1rem;
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        justify-content: space-between;
        gap: 0.6rem 1rem;
        margin-bottom: 0.5rem;
      }
      nav ol {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.2rem;
      }
      nav li + li::before {
        content: '/';
        color: var(--muted);
        margin: 0 0.25rem;
      }
      nav button {
        padding: 0.2rem 0.4rem;
        border: none;
        background: none;
        color: var(--accent);
      }
      nav [aria-current='page'] {
        font-weight: 650;
        color: var(--text);
      }
      .search {
        display: flex;
        align-items: center;
        gap: 0.5rem;
      }
      .search input {
        width: min(18rem, 60vw);
      }
      .pager {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 1rem;
        margin-top: 0.75rem;
      }
      .detail {
        margin-bottom: 1rem;
      }
    `,
  ];

  @property({ attribute: false }) cluster!: ClusterView;
  @state() private deleting: ReadonlySet<string> = new Set();
  @state() private problem: ErrorText | null = null;
  /** The file whose chunks are shown, its detail once fetched, and what went wrong fetching it. */
  @state() private selected: string | null = null;
  @state() private detail: FileDetail | null = null;
  @state() private detailProblem: ErrorText | null = null;
  readonly #uploads = new UploadsController(this, client, () => this.#changed());
  readonly #listing = new FileListingController(this, client);
  readonly #onPopState = () => {
    if (location.pathname.replace(/\/+$/, '') === '/files') this.#openFolder(folderInAddress(), false);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.#onPopState);
    this.#listing.open(folderInAddress());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.#onPopState);
  }

  /** Every refetch of the cluster (events, or its poll) refreshes the page shown, while it is shown. */
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('cluster') && changed.get('cluster') !== undefined && !this.hidden) {
      this.#listing.reload();
      if (this.selected) void this.#loadDetail(this.selected);
    }
  }

  override render() {
    const { health } = this.cluster;
    const listing = this.#listing.view;
    const uploads = this.#uploads.uploads;
    const finished = uploads.some((u) => u.state === 'done' || u.state === 'failed');
    const rows = listing.folders.length + listing.files.length;
    const stale = listing.error !== null && listing.fetchedAt !== null;
    return html`
      <header class="page-head">
        <div>
          <h1>Files</h1>
          <p id="summary">${health ? nodesLine(health, stale ? listing.fetchedAt : null) : 'Stored across the cluster.'}</p>
        </div>
      </header>
      ${stale
        ? html`<p class="banner" role="alert" id="stale">
            The gateway cannot be reached: the list below is as of ${clock(listing.fetchedAt!)}, not live.<small>${listing.error!.code}: ${listing.error!.message}</small>
          </p>`
        : nothing}
      ${this.problem ? html`<p class="banner" role="alert" id="problem">${this.problem.title}<small>${this.problem.detail}</small></p>` : nothing}
      <shoal-file-drop @files-chosen=${(e: CustomEvent<File[]>) => this.#uploads.add(e.detail, listing.folder)}></shoal-file-drop>
      ${uploads.length > 0
        ? html`<section class="card uploads">
            <header>
              <h2>Uploads</h2>
              <button class="small" ?hidden=${!finished} @click=${() => this.#uploads.clearFinished()}>Clear finished</button>
            </header>
            <shoal-upload-list .uploads=${uploads} @cancel-upload=${(e: CustomEvent<number>) => this.#uploads.cancel(e.detail)}></shoal-upload-list>
          </section>`
        : nothing}
      <div class="section-head">
        <h2>Stored files</h2>
        <span class="muted" id="shown">${listing.loaded ? shownWords(listing.page, listing.folders.length, listing.files.length) : ''}</span>
      </div>
      ${this.selected
        ? html`<section class="card detail">
            <shoal-file-detail .name=${this.selected} .detail=${this.detail} .problem=${this.detailProblem} @close=${() => this.#closeDetail()}></shoal-file-detail>
          </section>`
        : nothing}
      <section class="card">
        <div class="toolbar">
          ${this.#breadcrumbs(listing.folder)}
          <label class="search">
            <span class="muted">Names starting with</span>
            <input type="text" id="search" .value=${listing.search} placeholder="report-2024" aria-label=${`Search names in ${listing.folder || 'all files'} starting with`} @input=${(e: InputEvent) => this.#listing.search((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        ${rows > 0
          ? html`<shoal-file-list
              .folder=${listing.folder}
              .folders=${listing.folders}
              .files=${listing.files}
              .deleting=${this.deleting}
              @open-folder=${(e: CustomEvent<string>) => this.#openFolder(e.detail)}
              @show-file=${(e: CustomEvent<string>) => this.#showFile(e.detail)}
              @delete-file=${(e: CustomEvent<string>) => this.#delete(e.detail)}
              @download-refused=${(e: CustomEvent<string>) => (this.problem = { title: e.detail, detail: '', code: 'CHUNK_UNAVAILABLE', message: e.detail })}
            ></shoal-file-list>`
          : html`<p class="empty">${emptyWords(listing.loaded, listing.folder, listing.search)}</p>`}
        ${listing.page > 0 || listing.hasNext
          ? html`<div class="pager">
              <button class="small" id="previous-page" ?disabled=${listing.page === 0} @click=${() => this.#listing.previous()}>Previous page</button>
              <span class="muted">Page ${listing.page + 1}</span>
              <button class="small" id="next-page" ?disabled=${!listing.hasNext} @click=${() => this.#listing.next()}>Next page</button>
            </div>`
          : nothing}
      </section>
    `;
  }

  #breadcrumbs(folder: string) {
    const parts = folder.split(FOLDER_DELIMITER).filter(Boolean);
    const crumbs = [{ label: 'All files', prefix: '' }, ...parts.map((label, i) => ({ label, prefix: parts.slice(0, i + 1).join(FOLDER_DELIMITER) + FOLDER_DELIMITER }))];
    return html`<nav aria-label="Folder" class="crumbs">
      <ol>
        ${crumbs.map((c) =>
          c.prefix === folder
            ? html`<li><span aria-current="page" data-folder=${c.prefix}>${c.label}</span></li>`
            : html`<li><button data-folder=${c.prefix} @click=${() => this.#openFolder(c.prefix)}>${c.label}</button></li>`,
        )}
      </ol>
    </nav>`;
  }

  #openFolder(folder: string, remember = true): void {
    if (remember) {
      const url = new URL(location.href);
      if (folder) url.searchParams.set('folder', folder);
      else url.searchParams.delete('folder');
      history.pushState(null, '', url);
    }
    this.#listing.open(folder);
  }

  #showFile(name: string): void {
    this.selected = name;
    this.detail = null;
    this.detailProblem = null;
    void this.#loadDetail(name);
  }

  #closeDetail(): void {
    this.selected = null;
    this.detail = null;
  }

  async #loadDetail(name: string): Promise<void> {
    try {
      const detail = await client.fileDetail(name);
      if (this.selected === name) [this.detail, this.detailProblem] = [detail, null];
    } catch (err) {
      if (this.selected === name) this.detailProblem = describeError(err);
    }
  }

  async #delete(name: string): Promise<void> {
    this.deleting = new Set([...this.deleting, name]);
    try {
      await client.delete(name);
      this.problem = null;
      if (this.selected === name) this.#closeDetail();
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.deleting = new Set([...this.deleting].filter((n) => n !== name));
      this.#listing.reload();
      this.#changed();
    }
  }

  #changed(): void {
    this.#listing.reload();
    this.dispatchEvent(new CustomEvent('cluster-changed', { bubbles: true, composed: true }));
  }
}

function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

/** How the files are kept and how many nodes are online, or were when the page last heard from the gateway. */
function nodesLine(health: ClusterHealth, asOf: number | null): string {
  const copies = `Each file is kept as ${health.replicas} copies on different nodes`;
  const nodes = plural(health.nodesOnline, 'node');
  if (asOf === null) return `${copies}; ${nodes} ${health.nodesOnline === 1 ? 'is' : 'are'} online.`;
  return `${copies}; as of ${clock(asOf)}, ${nodes} ${health.nodesOnline === 1 ? 'was' : 'were'} online.`;
}

function folderInAddress(): string {
  const folder = new URL(location.href).searchParams.get('folder') ?? '';
  return folder && !folder.endsWith(FOLDER_DELIMITER) ? folder + FOLDER_DELIMITER : folder;
}

function shownWords(page: number, folders: number, files: number): string {
  const parts = [folders > 0 ? plural(folders, 'folder') : '', plural(files, 'file')].filter(Boolean).join(' and ');
  return page > 0 ? `${parts} on page ${page + 1}` : parts;
}

function emptyWords(loaded: boolean, folder: string, search: string): string {
  if (!loaded) return 'Loading…';
  if (search) return `No names in ${folder || 'any folder'} start with “${search}”.`;
  return folder ? `Nothing is stored under ${folder} any more.` : 'No files yet. Drop some above.';
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-files-page': ShoalFilesPage;
  }
}
