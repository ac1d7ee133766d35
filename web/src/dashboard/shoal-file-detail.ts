import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ChunkDetail, FileDetail } from '../../../shared/api-client.ts';
import { client } from '../common/api.ts';
import type { ErrorText } from '../common/error-text.ts';
import { plural } from '../common/format.ts';
import { downloadIcon } from '../common/icons.ts';
import '../common/shoal-size.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';
import { baseName, unreadableReason } from './file-download.ts';
import { HEALTH_HELP } from './shoal-file-list.ts';

/** Chunks listed one per row; the map above shows every one of them. */
const ROWS_SHOWN = 200;

/** Where a file's chunks live: a square per chunk coloured by its health, then each chunk's copies. Emits `close`. */
@customElement('shoal-file-detail')
export class ShoalFileDetail extends LitElement {
  static override styles = [
    baseStyles,
    css`
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 0.9rem;
        margin-bottom: 0.75rem;
      }
      h2 {
        overflow-wrap: anywhere;
        flex: 1 1 12rem;
      }
      .facts {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1.5rem;
        margin-bottom: 0.9rem;
      }
      .sha {
        overflow-wrap: anywhere;
      }
      .banner {
        margin-bottom: 0.9rem;
      }
      .map {
        display: flex;
        flex-wrap: wrap;
        gap: 3px;
        margin-bottom: 0.9rem;
      }
      .map span {
        width: 12px;
        height: 12px;
        border-radius: 2px;
        background: var(--ok);
      }
      .map .degraded {
        background: var(--warn);
      }
      .map .unavailable {
        background: var(--bad);
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.88rem;
      }
      th,
      td {
        text-align: left;
        padding: 0.4rem 0.5rem 0.4rem 0;
        border-bottom: 1px solid var(--border);
        vertical-align: top;
      }
      th {
        font-size: 0.72rem;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--muted);
        font-weight: 600;
      }
      td.copies {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem;
      }
      .missing {
        color: var(--bad);
        font-weight: 600;
      }
    `,
  ];

  @property({ attribute: false }) detail: FileDetail | null = null;
  @property({ attribute: false }) problem: ErrorText | null = null;
  /** The name asked for, shown while its detail loads. */
  @property() name = '';

  override render() {
    const { detail } = this;
    const close = html`<button class="small" aria-label=${`Close details of ${this.name}`} @click=${() => this.dispatchEvent(new CustomEvent('close'))}>Close</button>`;
    if (!detail) {
      return html`<header><h2>${this.name}</h2>${close}</header>
        ${this.problem ? html`<p class="banner" role="alert">${this.problem.title}<small>${this.problem.detail}</small></p>` : html`<p class="muted">Loading…</p>`}`;
    }
    const { file, chunks } = detail;
    const unreadable = file.health === 'unavailable';
    return html`
      <header>
        <h2>${file.name}</h2>
        <shoal-status id="detail-health" status=${file.health} title=${HEALTH_HELP[file.health]}></shoal-status>
        ${unreadable
          ? html`<button class="small" disabled aria-label=${`Download ${file.name}: cannot be read now`}>${downloadIcon} Download</button>`
          : html`<a class="button small" href=${client.fileUrl(file.name)} download=${baseName(file.name)} aria-label=${`Download ${file.name}`}>${downloadIcon} Download</a>`}
        ${close}
      </header>
      ${this.problem ? html`<p class="banner" role="alert">${this.problem.title}<small>${this.problem.detail}</small></p>` : nothing}
      ${unreadable ? html`<p class="banner" role="alert" id="unreadable">${unreadableReason(detail)}</p>` : nothing}
      <dl class="facts">
        <div><dt>Size</dt><dd><shoal-size .bytes=${file.size}></shoal-size></dd></div>
        <div><dt>Chunks</dt><dd>${plural(file.chunks, 'chunk')} of up to <shoal-size .bytes=${file.chunkSize}></shoal-size></dd></div>
        <div><dt>Copies</dt><dd>${file.replicas} each</dd></div>
        <div><dt>SHA-256</dt><dd class="mono sha">${file.sha256}</dd></div>
      </dl>
      <div class="map" role="img" aria-label=${summary(chunks)}>${chunks.map((c) => html`<span class=${c.health} title=${`chunk ${c.index}: ${c.health}`}></span>`)}</div>
      <table>
        <caption class="muted" hidden>Chunks of ${file.name} and the nodes holding their copies</caption>
        <thead>
          <tr><th scope="col">Chunk</th><th scope="col">Size</th><th scope="col">Health</th><th scope="col">Copies</th></tr>
        </thead>
        <tbody>
          ${chunks.slice(0, ROWS_SHOWN).map(
            (c) => html`<tr class="chunk" data-index=${c.index} data-health=${c.health}>
              <td><span class="mono" title=${c.hash}>${c.index} · ${c.hash.slice(0, 12)}</span></td>
              <td><shoal-size .bytes=${c.size}></shoal-size></td>
              <td><shoal-status status=${c.health}></shoal-status></td>
              <td class="copies">
                ${c.copies.map((copy) => html`<shoal-status class="copy" data-node=${copy.nodeId} status=${copy.state} label=${`${copy.nodeId} · ${copy.state}`}></shoal-status>`)}
                ${c.missing > 0 ? html`<span class="missing">${c.missing} ${c.missing === 1 ? 'copy' : 'copies'} missing</span>` : nothing}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${chunks.length > ROWS_SHOWN ? html`<p class="muted">and ${plural(chunks.length - ROWS_SHOWN, 'more chunk')}, pictured above.</p>` : nothing}
    `;
  }
}

function summary(chunks: ChunkDetail[]): string {
  const count = (health: string) => chunks.filter((c) => c.health === health).length;
  return `${plural(chunks.length, 'chunk')}: ${count('ok')} ok, ${count('degraded')} degraded, ${count('unavailable')} unavailable`;
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-file-detail': ShoalFileDetail;
  }
}
