import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { FileListing } from '../../../shared/api-client.ts';
import { client } from '../common/api.ts';
import { formatBytes, timeAgo } from '../common/format.ts';
import { downloadIcon, fileIcon } from '../common/icons.ts';
import '../common/shoal-confirm-button.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';

/** The stored files with their health. Emits `delete-file` with the name once a delete is confirmed. */
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
      .icon {
        color: var(--muted);
        font-size: 1.2rem;
      }
      .name {
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        color: var(--text);
        text-decoration: none;
        display: block;
      }
      .name:hover {
        color: var(--accent);
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

  @property({ attribute: false }) files: FileListing[] = [];
  /** Names being deleted right now. */
  @property({ attribute: false }) deleting: ReadonlySet<string> = new Set();

  override render() {
    return html`<ul>
      ${repeat(
        this.files,
        (f) => f.name,
        (f) => html`<li class="file" data-name=${f.name} data-health=${f.health}>
          <span class="icon">${fileIcon}</span>
          <div>
            <a class="name" href=${client.fileUrl(f.name)} download=${baseName(f.name)} title=${f.name}>${f.name}</a>
            <div class="meta">${formatBytes(f.size)} · ${f.chunks} chunk${f.chunks === 1 ? '' : 's'} × ${f.replicas} · ${timeAgo(f.createdAt)}</div>
          </div>
          <shoal-status status=${f.health} title=${HEALTH_HELP[f.health]}></shoal-status>
          <div class="actions">
            <a class="button small download" href=${client.fileUrl(f.name)} download=${baseName(f.name)}>${downloadIcon} Download</a>
            <shoal-confirm-button ?busy=${this.deleting.has(f.name)} @confirm=${() => this.#delete(f.name)}></shoal-confirm-button>
          </div>
        </li>`,
      )}
    </ul>`;
  }

  #delete(name: string): void {
    this.dispatchEvent(new CustomEvent<string>('delete-file', { detail: name, bubbles: true, composed: true }));
  }
}

const HEALTH_HELP = {
  ok: 'every chunk has all its copies online',
  degraded: 'every chunk is readable, but some have fewer copies online than they should',
  unavailable: 'some chunks have no copy online: the file cannot be read until their nodes return',
} as const;

function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-file-list': ShoalFileList;
  }
}
