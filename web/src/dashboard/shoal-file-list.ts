import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { FileListing } from '../../../shared/api-client.ts';
import { client } from '../common/api.ts';
import { plural, timeAgo } from '../common/format.ts';
import { downloadIcon, fileIcon, folderIcon } from '../common/icons.ts';
import '../common/shoal-confirm-button.ts';
import '../common/shoal-size.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';
import { baseName, checkReadable } from './file-download.ts';

/**
 * One folder's page of stored files: its subfolders first, then its files with their health.
 * Emits `open-folder` with a folder's full prefix, `show-file` with a name whose detail is asked
 * for, `delete-file` with a name once a delete is confirmed, and `download-refused` with the
 * reason when a file turned out unreadable as its download was asked for.
 */
@customElement('shoal-file-list')
export class ShoalFileList extends LitElement {
  static override styles = [
    baseStyles,
    css`
      li {
        display: grid;
        grid-template-columns: auto minmax(0, 1fr) auto auto;
        align-items: center;
        gap: 0.4rem 0.9rem;
        padding: 0.75rem 0;
        border-bottom: 1px solid var(--border);
      }
      li:last-child {
        border-bottom: none;
      }
      li.folder {
        grid-template-columns: auto minmax(0, 1fr);
      }
      .icon {
        color: var(--muted);
        font-size: 1.2rem;
      }
      .folder .icon {
        color: var(--accent);
      }
      .name {
        font: inherit;
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        color: var(--text);
        display: block;
        max-width: 100%;
        padding: 0;
        border: none;
        background: none;
        text-align: left;
      }
      .name:hover {
        color: var(--accent);
        text-decoration: underline;
      }
      .meta {
        color: var(--muted);
        font-size: 0.84rem;
      }
      .actions {
        display: flex;
        gap: 0.4rem;
      }
      @media (max-width: 560px) {
        li {
          grid-template-columns: auto minmax(0, 1fr) auto;
        }
        .actions {
          grid-column: 2 / -1;
        }
      }
    `,
  ];

  /** The folder shown: names are shown without it. */
  @property() folder = '';
  @property({ attribute: false }) folders: string[] = [];
  @property({ attribute: false }) files: FileListing[] = [];
  /** Names being deleted right now. */
  @property({ attribute: false }) deleting: ReadonlySet<string> = new Set();

  override render() {
    return html`<ul>
      ${repeat(
        this.folders,
        (prefix) => prefix,
        (prefix) => html`<li class="folder" data-folder=${prefix}>
          <span class="icon">${folderIcon}</span>
          <button class="name" @click=${() => this.#emit('open-folder', prefix)} aria-label=${`Open folder ${this.#shown(prefix).slice(0, -1)}`}>
            ${this.#shown(prefix)}
          </button>
        </li>`,
      )}
      ${repeat(
        this.files,
        (f) => f.name,
        (f) => html`<li class="file" data-name=${f.name} data-health=${f.health}>
          <span class="icon">${fileIcon}</span>
          <div>
            <button class="name" title=${f.name} aria-label=${`Details of ${f.name}`} @click=${() => this.#emit('show-file', f.name)}>${this.#shown(f.name)}</button>
            <div class="meta"><shoal-size .bytes=${f.size}></shoal-size> · ${plural(f.chunks, 'chunk')} × ${f.replicas} · ${timeAgo(f.createdAt)}</div>
          </div>
          <shoal-status status=${f.health} title=${HEALTH_HELP[f.health]}></shoal-status>
          <div class="actions">
            ${f.health === 'unavailable'
              ? html`<button class="small download" disabled aria-label=${`Download ${f.name}: cannot be read now`} title=${HEALTH_HELP.unavailable}>${downloadIcon} Download</button>`
              : html`<a class="button small download" href=${client.fileUrl(f.name)} download=${baseName(f.name)} aria-label=${`Download ${f.name}`} @click=${(e: MouseEvent) => this.#download(e, f.name)}
                  >${downloadIcon} Download</a
                >`}
            <shoal-confirm-button subject=${f.name} ?busy=${this.deleting.has(f.name)} @confirm=${() => this.#emit('delete-file', f.name)}></shoal-confirm-button>
          </div>
        </li>`,
      )}
    </ul>`;
  }

  #shown(name: string): string {
    return name.startsWith(this.folder) ? name.slice(this.folder.length) : name;
  }

  /**
   * The listing may be seconds old: the file's chunks are checked first, so a file that cannot be
   * read says so on the page instead of as a browser download that fails without a word.
   */
  #download(event: MouseEvent, name: string): void {
    const link = event.currentTarget as HTMLAnchorElement;
    if (link.dataset.checked) {
      delete link.dataset.checked;
      return;
    }
    event.preventDefault();
    void checkReadable(client, name).then((refusal) => {
      if (refusal) {
        this.#emit('download-refused', refusal);
        return;
      }
      link.dataset.checked = '1';
      link.click();
    });
  }

  #emit(type: string, detail: string): void {
    this.dispatchEvent(new CustomEvent<string>(type, { detail, bubbles: true, composed: true }));
  }
}

export const HEALTH_HELP = {
  ok: 'every chunk has all its copies online',
  degraded: 'every chunk is readable, but some have fewer copies online than they should',
  unavailable: 'some chunks have no copy online: the file cannot be read until their nodes return',
} as const;

declare global {
  interface HTMLElementTagNameMap {
    'shoal-file-list': ShoalFileList;
  }
}
