import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { formatBytes, formatRate, fraction } from '../common/format.ts';
import { fileIcon } from '../common/icons.ts';
import '../common/shoal-bar.ts';
import { baseStyles } from '../common/styles.ts';
import type { Upload } from './uploads-controller.ts';

const BAR_TONE = { queued: 'progress', uploading: 'progress', finishing: 'progress', done: 'done', failed: 'failed' } as const;

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
        (u) => html`<li class="upload" data-state=${u.state} data-name=${u.file.name}>
          <span class="icon">${fileIcon}</span>
          <div class="top">
            <span class="name" title=${u.file.name}>${u.file.name}</span>
            <span class="status ${u.state}">${describe(u)}</span>
          </div>
          <shoal-bar tone=${BAR_TONE[u.state]} .value=${u.state === 'done' || u.state === 'failed' ? 1 : fraction(u.sentBytes, u.file.size)} label="upload progress"></shoal-bar>
          ${u.error ? html`<p class="error" role="alert">${u.error.title}<small>${u.error.detail}</small></p>` : ''}
        </li>`,
      )}
    </ul>`;
  }
}

function describe(u: Upload): string {
  const size = formatBytes(u.file.size);
  const seconds = ((u.finishedAt ?? Date.now()) - (u.startedAt ?? Date.now())) / 1000;
  switch (u.state) {
    case 'queued':
      return `${size} · waiting`;
    case 'uploading':
      return `${Math.floor(fraction(u.sentBytes, u.file.size) * 100)} % of ${size}${seconds > 0.5 ? ` · ${formatRate(u.sentBytes / seconds)}` : ''}`;
    case 'finishing':
      return `${size} sent · storing replicas`;
    case 'done':
      return `${size} · stored${seconds > 0 ? ` in ${seconds.toFixed(1)} s` : ''}`;
    case 'failed':
      return 'failed';
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-upload-list': ShoalUploadList;
  }
}
