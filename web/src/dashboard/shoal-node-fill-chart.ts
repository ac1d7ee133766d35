import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { NodeInfo } from '../../../shared/api-types.ts';
import { fraction } from '../common/format.ts';
import '../common/shoal-size.ts';
import { baseStyles } from '../common/styles.ts';

/**
 * How full each node is, every bar on one scale: a bar's length is its node's capacity against
 * the largest one's, its fill what is stored. A node holding far more or less than the rest stands
 * out at a glance, whatever the sizes. Offline nodes are drawn hatched: their space is not usable now.
 */
@customElement('shoal-node-fill-chart')
export class ShoalNodeFillChart extends LitElement {
  static override styles = [
    baseStyles,
    css`
      ul {
        display: grid;
        gap: 0.45rem;
      }
      li {
        display: grid;
        grid-template-columns: minmax(6rem, 11rem) 1fr minmax(9rem, auto);
        align-items: center;
        gap: 0.75rem;
        font-size: 0.85rem;
      }
      .id {
        font-family: var(--mono);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .scale {
        height: 0.8rem;
      }
      .track {
        height: 100%;
        border-radius: 4px;
        background: var(--track);
        overflow: hidden;
      }
      .fill {
        height: 100%;
        background: var(--kind);
      }
      li[kind='disk'] {
        --kind: var(--disk);
      }
      li[kind='browser'] {
        --kind: var(--browser);
      }
      li[status='offline'] .track {
        background: repeating-linear-gradient(135deg, var(--track) 0 4px, transparent 4px 8px);
      }
      li[status='offline'] .fill {
        background: var(--muted);
      }
      .figures {
        color: var(--muted);
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
    `,
  ];

  @property({ attribute: false }) nodes: NodeInfo[] = [];

  override render() {
    const largest = Math.max(0, ...this.nodes.map((n) => n.capacityBytes));
    return html`<ul aria-label="storage used on each node">
      ${repeat(
        this.nodes,
        (n) => n.id,
        (n) => html`<li kind=${n.kind} status=${n.status} data-node=${n.id}>
          <span class="id" title=${n.id}>${n.id}</span>
          <div class="scale" aria-hidden="true">
            <div class="track" style="width: ${(fraction(n.capacityBytes, largest) * 100).toFixed(1)}%">
              <div class="fill" style="width: ${(fraction(n.usedBytes, n.capacityBytes) * 100).toFixed(1)}%"></div>
            </div>
          </div>
          <span class="figures"
            >${Math.round(fraction(n.usedBytes, n.capacityBytes) * 100)} % · <shoal-size .bytes=${n.usedBytes}></shoal-size> of <shoal-size .bytes=${n.capacityBytes}></shoal-size>${n.status === 'offline' ? ' · offline' : ''}</span
          >
        </li>`,
      )}
    </ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-node-fill-chart': ShoalNodeFillChart;
  }
}
