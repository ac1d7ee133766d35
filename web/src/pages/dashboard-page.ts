import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ClusterHealth, NodeInfo } from '../../../shared/api-client.ts';
import '../components/bar.ts';
import '../components/node-card.ts';
import '../components/stat-tile.ts';
import '../components/status-badge.ts';
import { formatBytes, fraction } from '../format.ts';
import { browserIcon, diskIcon, plusIcon } from '../icons.ts';
import type { ClusterView } from '../live-cluster-controller.ts';
import { baseStyles } from '../styles.ts';

/** Online nodes first, then disks before tabs, then by id: the order stays put as numbers change. */
const byStatusKindId = (a: NodeInfo, b: NodeInfo) =>
  Number(a.status === 'offline') - Number(b.status === 'offline') || Number(a.kind !== 'disk') - Number(b.kind !== 'disk') || a.id.localeCompare(b.id);

function replicationNote(health: ClusterHealth): string {
  const repairing = health.repair.queued + health.repair.active;
  if (health.unavailableChunks > 0) return `${health.unavailableChunks} with no copy online`;
  if (repairing > 0) return `repairing, ${repairing} chunk${repairing === 1 ? '' : 's'} to go`;
  if (health.underReplicatedChunks > 0) return 'fewer copies online than wanted';
  return 'every chunk fully replicated';
}

/** The cluster at a glance: totals, then every node. All of it follows the gateway's event stream. */
@customElement('shoal-dashboard-page')
export class DashboardPage extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .live {
        display: inline-flex;
        align-items: center;
        gap: 0.4rem;
        font-size: 0.85rem;
        color: var(--muted);
      }
      .live::before {
        content: '';
        width: 0.55rem;
        height: 0.55rem;
        border-radius: 50%;
        background: var(--muted);
      }
      .live.on::before {
        background: var(--ok);
        box-shadow: 0 0 0 3px var(--ok-soft);
      }
      .actions {
        display: flex;
        align-items: center;
        gap: 1rem;
        flex-wrap: wrap;
      }
      .tiles {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr));
        gap: 1rem;
      }
      .tiles shoal-bar {
        margin: 0.2rem 0 0.4rem;
      }
      .legend {
        display: flex;
        gap: 1rem;
        color: var(--muted);
        font-size: 0.85rem;
      }
      .legend span {
        display: inline-flex;
        align-items: center;
        gap: 0.3rem;
      }
      .legend .disk {
        color: var(--disk);
      }
      .legend .browser {
        color: var(--browser);
      }
      .nodes {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr));
        gap: 1rem;
      }
      .empty {
        text-align: center;
        padding: 2.5rem 1rem;
        color: var(--muted);
      }
      .empty p + p {
        margin-top: 0.5rem;
      }
    `,
  ];

  @property({ attribute: false }) cluster!: ClusterView;

  override render() {
    const { nodes, health, live, error } = this.cluster;
    const disks = nodes.filter((n) => n.kind === 'disk').length;
    return html`
      <header class="page-head">
        <div>
          <h1>Cluster</h1>
          <p>Every storage node and what it holds, as the gateway sees it right now.</p>
        </div>
        <div class="actions">
          <span class="live ${live ? 'on' : ''}">${live ? 'Live' : 'Reconnecting…'}</span>
          <a class="button primary" id="add-browser" href="/node?adopt=1" target="_blank" rel="noopener">${plusIcon} Add this browser as a node</a>
        </div>
      </header>
      ${error ? html`<p class="banner" role="alert">${error.message}</p>` : ''}
      <section class="tiles">
        <shoal-stat id="nodes-online" label="Nodes online" value=${health ? `${health.nodesOnline} of ${health.nodesTotal}` : '–'}>
          <shoal-status status=${health?.status ?? 'offline'} label=${health ? `cluster ${health.status}` : 'loading'}></shoal-status>
        </shoal-stat>
        <shoal-stat id="capacity" label="Storage used" value=${health ? formatBytes(health.usedBytes) : '–'}>
          <shoal-bar .value=${health ? fraction(health.usedBytes, health.capacityBytes) : 0} label="cluster storage used"></shoal-bar>
          <span>of ${health ? formatBytes(health.capacityBytes) : '–'} capacity</span>
        </shoal-stat>
        <shoal-stat id="files" label="Files" value=${health ? String(health.files) : '–'}>
          <span>${health ? `${health.chunks} chunks, ${health.replicas} copies each` : ''}</span>
        </shoal-stat>
        <shoal-stat
          id="under-replicated"
          label="Under-replicated chunks"
          value=${health ? String(health.underReplicatedChunks) : '–'}
          tone=${!health ? 'normal' : health.unavailableChunks > 0 ? 'bad' : health.underReplicatedChunks > 0 ? 'warn' : 'normal'}
        >
          <span>${health ? replicationNote(health) : ''}</span>
        </shoal-stat>
      </section>
      <div class="section-head">
        <h2>Nodes</h2>
        <div class="legend">
          <span class="disk">${diskIcon} ${disks} disk</span>
          <span class="browser">${browserIcon} ${nodes.length - disks} browser</span>
        </div>
      </div>
      ${nodes.length === 0 ? this.#renderEmpty() : html`<section class="nodes">${repeat([...nodes].sort(byStatusKindId), (n) => n.id, (n) => html`<shoal-node-card .node=${n}></shoal-node-card>`)}</section>`}
    `;
  }

  #renderEmpty() {
    return html`<div class="card empty">
      <p><strong>No storage nodes yet.</strong></p>
      <p>Add this browser with the button above, or start a disk node:</p>
      <p><code>npx shoal node create node1 --storage 1GB && npx shoal node start node1</code></p>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-dashboard-page': DashboardPage;
  }
}
