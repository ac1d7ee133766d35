import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { NodeInfo } from '../../../shared/api-client.ts';
import { formatBytes, formatRate, fraction, timeAgo } from '../format.ts';
import { browserIcon, diskIcon } from '../icons.ts';
import { baseStyles } from '../styles.ts';
import './bar.ts';
import './status-badge.ts';

const KIND_LABEL = { disk: 'Disk', browser: 'Browser tab' } as const;

/**
 * One node on the dashboard. Disk nodes and browser tabs differ in colour and icon; the host element
 * carries node-id, kind and status attributes so tests and styles can find a node by what it is.
 */
@customElement('shoal-node-card')
export class ShoalNodeCard extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .card {
        border-top: 3px solid var(--kind);
        display: grid;
        gap: 0.7rem;
        height: 100%;
      }
      :host([kind='disk']) {
        --kind: var(--disk);
        --kind-soft: var(--disk-soft);
      }
      :host([kind='browser']) {
        --kind: var(--browser);
        --kind-soft: var(--browser-soft);
      }
      :host([status='offline']) .card {
        opacity: 0.62;
      }
      .head {
        display: flex;
        align-items: center;
        gap: 0.65rem;
        min-width: 0;
      }
      .icon {
        flex: none;
        display: grid;
        place-items: center;
        width: 2.1rem;
        height: 2.1rem;
        border-radius: 9px;
        color: var(--kind);
        background: var(--kind-soft);
        font-size: 1.15rem;
      }
      .name {
        flex: 1;
        min-width: 0;
      }
      .id {
        font-family: var(--mono);
        font-weight: 600;
        font-size: 0.92rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .kind {
        font-size: 0.8rem;
        color: var(--kind);
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .usage {
        display: flex;
        justify-content: space-between;
        gap: 0.5rem;
        font-size: 0.85rem;
        color: var(--muted);
        margin-top: 0.35rem;
        font-variant-numeric: tabular-nums;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(2, minmax(0, 1fr));
        gap: 0.55rem 0.75rem;
        margin: 0;
        padding-top: 0.7rem;
        border-top: 1px solid var(--border);
      }
      dt {
        font-size: 0.72rem;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--muted);
      }
      dd {
        margin: 0.1rem 0 0;
        font-size: 0.88rem;
        font-weight: 550;
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
    `,
  ];

  @property({ attribute: false }) node!: NodeInfo;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('node')) return;
    this.setAttribute('node-id', this.node.id);
    this.setAttribute('kind', this.node.kind);
    this.setAttribute('status', this.node.status);
  }

  override render() {
    const n = this.node;
    const online = n.status !== 'offline';
    return html`<article class="card">
      <div class="head">
        <span class="icon">${n.kind === 'disk' ? diskIcon : browserIcon}</span>
        <div class="name">
          <div class="id" title=${n.id}>${n.id}</div>
          <div class="kind">${KIND_LABEL[n.kind]}${n.cpu ? html`<span class="muted"> · ${n.cpu} CPU</span>` : ''}</div>
        </div>
        <shoal-status status=${n.status}></shoal-status>
      </div>
      <div>
        <shoal-bar .value=${fraction(n.usedBytes, n.capacityBytes)} label="storage used"></shoal-bar>
        <div class="usage">
          <span>${formatBytes(n.usedBytes)} of ${formatBytes(n.capacityBytes)}</span>
          <span>${Math.round(fraction(n.usedBytes, n.capacityBytes) * 100)} %</span>
        </div>
      </div>
      <dl>
        <div><dt>Chunks</dt><dd class="chunks">${n.chunkCount}</dd></div>
        <div><dt>Last seen</dt><dd>${timeAgo(n.lastSeenAt)}</dd></div>
        <div><dt>Writing</dt><dd>${online ? formatRate(n.writeBps) : '–'}</dd></div>
        <div><dt>Reading</dt><dd>${online ? formatRate(n.readBps) : '–'}</dd></div>
      </dl>
    </article>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-node-card': ShoalNodeCard;
  }
}
