import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { formatBytes, formatRate, fraction } from '../common/format.ts';
import { fileIcon } from '../common/icons.ts';
import '../common/shoal-bar.ts';
import { baseStyles } from '../common/styles.ts';
import type { Upload, UploadState } from './uploads-controller.ts';

const BAR_TONE: Record<UploadState, string> = { queued: 'progress', uploading: 'progress', waiting: 'progress', finishing: 'progress', done: 'done', failed: 'failed', cancelled: 'failed', left: 'progress' };

/** One row per upload of this session: a progress bar, then the outcome in words. */
@customElement('shoal-upload-list')
export class ShoalUploadList extends LitElement {
  static override styles = [
    baseStyles,
    css`
      ul {
        display: grid;
        gap: 0.6rem;
      }
      li {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.2rem 0.75rem;
        align-items: center;
      }
      .icon {
        grid-row: span 3;
        color: var(--muted);
        font-size: 1.2rem;
      }
      .top {
        display: flex;
        justify-content: space-between;
        gap: 0.75rem;
        min-width: 0;
      }
      .name {
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .status {
        color: var(--muted);
        font-size: 0.85rem;
        white-space: nowrap;
        font-variant-numeric: tabular-nums;
      }
      .status.done {
        color: var(--ok);
      }
      .status.failed {
        color: var(--bad);
      }
      .error {
        color: var(--bad);
        font-size: 0.88rem;
      }
      .error small {
        display: block;
        color: var(--muted);
        font-family: var(--mono);
        font-size: 0.78rem;
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property({ attribute: false }) uploads: Upload[] = [];

  override render() {
    return html`<ul>
      ${repeat(
        this.uploads,
        (u) => u.id,
        (u) => html`<li class="upload" data-state=${u.state} data-name=${u.name} data-resumed-from=${u.resumedFrom} data-sent=${u.sentBytes}>
          <span class="icon">${fileIcon}</span>
          <div class="top">
            <span class="name" title=${u.name}>${u.name}</span>
            <span class="status ${u.state}">${describe(u)}</span>
            ${ACTIVE.has(u.state)
              ? html`<button class="small cancel" aria-label=${`${u.state === 'left' ? 'Forget' : 'Cancel'} upload of ${u.name}`} @click=${() => this.#cancel(u.id)}>${u.state === 'left' ? 'Forget' : 'Cancel'}</button>`
              : nothing}
          </div>
          <shoal-bar tone=${BAR_TONE[u.state]} .value=${u.state === 'done' || u.state === 'failed' ? 1 : fraction(u.sentBytes, u.size)} label=${`upload of ${u.name}`}></shoal-bar>
          ${u.error ? html`<p class="error" role=${u.state === 'failed' ? 'alert' : 'status'}>${u.error.title}<small>${u.error.detail}</small></p>` : nothing}
        </li>`,
      )}
    </ul>`;
  }

  #cancel(id: number): void {
    this.dispatchEvent(new CustomEvent<number>('cancel-upload', { detail: id, bubbles: true, composed: true }));
  }
}

/** Uploads that can still be stopped: running, waiting, or left by an earlier visit. */
const ACTIVE = new Set<UploadState>(['queued', 'uploading', 'waiting', 'finishing', 'left']);

function describe(u: Upload): string {
  const size = formatBytes(u.size);
  const seconds = ((u.finishedAt ?? Date.now()) - (u.startedAt ?? Date.now())) / 1000;
  const percent = `${Math.floor(fraction(u.sentBytes, u.size) * 100)} % of ${size}`;
  switch (u.state) {
    case 'queued':
      return `${size} · queued`;
    case 'uploading':
      return `${percent}${u.resumedFrom > 0 ? ' · resumed' : ''}${seconds > 0.5 ? ` · ${formatRate((u.sentBytes - u.resumedFrom) / seconds)}` : ''}`;
    case 'waiting':
      return `${percent} · waiting for the connection`;
    case 'finishing':
      return `${size} sent · storing replicas`;
    case 'done':
      return `${size} · stored${seconds > 0 ? ` in ${seconds.toFixed(1)} s` : ''}`;
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    case 'left':
      return `${percent} stored · choose the file again to carry on`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-upload-list': ShoalUploadList;
  }
}
