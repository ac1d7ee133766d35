import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ClusterHealth, NodeInfo } from '../../../shared/api-client.ts';
import type { RepairStats } from '../../../shared/api-types.ts';
import { client } from '../common/api.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { clock, fraction, plural } from '../common/format.ts';
import { browserIcon, diskIcon, plusIcon } from '../common/icons.ts';
import '../common/shoal-bar.ts';
import '../common/shoal-size.ts';
import '../common/shoal-stat.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';
import { isStale, type ClusterView } from './live-cluster-controller.ts';
import './shoal-node-fill-chart.ts';
import './shoal-throughput-chart.ts';
import './shoal-invites-panel.ts';
import type { NodeAction, NodeActionDetail } from './shoal-node-card.ts';
import './shoal-node-card.ts';
import './shoal-repair-panel.ts';

/** Online nodes first, then disks before tabs, then by id: the order stays put as numbers change. */
const byStatusKindId = (a: NodeInfo, b: NodeInfo) =>
  Number(a.status === 'offline') - Number(b.status === 'offline') || Number(a.kind !== 'disk') - Number(b.kind !== 'disk') || a.id.localeCompare(b.id);

function replicationNote(health: ClusterHealth): string {
  const repairing = health.repair.queued + health.repair.active;
  if (health.unavailableChunks > 0) return `${health.unavailableChunks} with no copy online`;
  if (health.underReplicatedChunks === 0) return 'every chunk fully replicated';
  // The queue also holds drain and rebalance moves; only while copies are missing is it repair.
  if (repairing > 0) return `repairing, ${plural(repairing, 'chunk')} to go`;
  return 'fewer copies online than wanted';
}

/** Offline nodes whose removal loses nothing: every chunk they held has enough copies elsewhere. */
const safeToRemove = (n: NodeInfo) => n.status === 'offline' && n.atRiskChunks === 0;

/** Where the dashboard's "hide offline nodes" choice is kept across reloads. */
const HIDE_OFFLINE_KEY = 'shoal.dashboard.hideOffline';

/** The invite "Add this browser as a node" makes: for the tab it opens now, so one use, soon gone. */
const THIS_BROWSER_INVITE = { label: 'this browser, from the dashboard', maxUses: 1, expiresInMs: 10 * 60_000 };

/** A node card's words for the gateway's refusals to drain or remove a node. */
const NODE_ACTION_TITLES = {
  NODE_NOT_SAFE_TO_REMOVE: 'Not removed: some chunks would be left with too few copies.',
  NODE_NOT_FOUND: 'The gateway no longer knows this node.',
};

/**
 * The cluster at a glance: totals, self-healing, throughput and fill pictures, then every node.
 * All of it follows the gateway's event stream; when that is down or the gateway does not answer,
 * every figure is marked as of the time it was fetched and nothing is called current. Runs what the repair panel and node cards ask for; emits `cluster-changed` after
 * each so the view catches up at once, and `repair-stats` with the numbers a rebalance answers.
 */
@customElement('shoal-dashboard-page')
export class ShoalDashboardPage extends LitElement {
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
      shoal-repair-panel {
        margin-top: 1rem;
      }
      shoal-invites-panel {
        margin-top: 1.75rem;
      }
      .banner {
        margin-bottom: 1rem;
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
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
        gap: 1rem;
        margin-top: 1rem;
      }
      .charts h2 {
        margin-bottom: 0.6rem;
      }
      .offline-tools {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.75rem 1.25rem;
        margin-bottom: 0.75rem;
        font-size: 0.9rem;
      }
      .offline-tools label {
        display: inline-flex;
        align-items: center;
        gap: 0.4rem;
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
  /** Node id -> the action being run for it. */
  @state() private nodeBusy: ReadonlyMap<string, NodeAction> = new Map();
  /** Node id -> why its last action failed, shown on its card until dismissed or retried. */
  @state() private nodeProblems: ReadonlyMap<string, ErrorText> = new Map();
  @state() private requestingRebalance = false;
  @state() private requestingScrub = false;
  @state() private confirmingCollection = false;
  @state() private addingBrowser = false;
  @state() private scrubNote = '';
  @state() private clearingFailures = false;
  @state() private removingSafe = false;
  @state() private hideOffline = localStorage.getItem(HIDE_OFFLINE_KEY) === '1';
  /** A rebalance, scrub, collection or invite request that failed. */
  @state() private problem: ErrorText | null = null;

  override render() {
    const { nodes, health, live, error, asOf } = this.cluster;
    const stale = isStale(this.cluster) ? asOf : null;
    const disks = nodes.filter((n) => n.kind === 'disk').length;
    const offline = nodes.filter((n) => n.status === 'offline');
    const shown = this.hideOffline ? nodes.filter((n) => n.status !== 'offline') : nodes;
    const removable = offline.filter(safeToRemove);
    return html`
      <header class="page-head">
        <div>
          <h1>Cluster</h1>
          <p>Every storage node and what it holds, as the gateway sees it right now.</p>
        </div>
        <div class="actions">
          <span class="live ${live && !stale ? 'on' : ''}" id="live">${stale !== null ? `Not live · as of ${clock(stale)}` : live ? 'Live' : 'Connecting…'}</span>
          <button class="primary" id="add-browser" ?disabled=${this.addingBrowser} @click=${this.#addThisBrowser}>${plusIcon} Add this browser as a node</button>
        </div>
      </header>
      ${stale !== null
        ? html`<p class="banner" role="alert" id="stale">
            The gateway cannot be reached: every figure below is as of ${clock(stale)}, not live.${error ? html`<small>${error.message}</small>` : ''}
          </p>`
        : error
          ? html`<p class="banner" role="alert">${error.message}</p>`
          : ''}
      ${this.problem ? html`<p class="banner" role="alert">${this.problem.title}<small>${this.problem.detail}</small></p>` : ''}
      <section class="tiles" ?data-stale=${stale !== null}>
        <shoal-stat id="nodes-online" label=${stale !== null ? `Nodes online at ${clock(stale)}` : 'Nodes online'} value=${health ? `${health.nodesOnline} of ${health.nodesTotal}` : '–'}>
          ${stale !== null
            ? html`<shoal-status status="stale" label=${`unknown since ${clock(stale)}`}></shoal-status>`
            : html`<shoal-status status=${health?.status ?? 'offline'} label=${health ? `cluster ${health.status}` : 'loading'}></shoal-status>`}
        </shoal-stat>
        <shoal-stat id="capacity" label="Storage used">
          <span slot="value">${health ? html`<shoal-size .bytes=${health.usedBytes}></shoal-size>` : '–'}</span>
          <shoal-bar .value=${health ? fraction(health.usedBytes, health.capacityBytes) : 0} label="cluster storage used"></shoal-bar>
          <span>of ${health ? html`<shoal-size .bytes=${health.capacityBytes}></shoal-size>` : '–'} on the nodes online</span>
        </shoal-stat>
        <shoal-stat id="files" label="Files" value=${health ? String(health.files) : '–'}>
          <span>${health ? `${plural(health.chunks, 'chunk')}, ${health.replicas} copies each` : ''}</span>
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
      <shoal-repair-panel
        .health=${health}
        .staleSince=${stale}
        .requestingRebalance=${this.requestingRebalance}
        .requestingScrub=${this.requestingScrub}
        .confirmingCollection=${this.confirmingCollection}
        .clearingFailures=${this.clearingFailures}
        .scrubNote=${this.scrubNote}
        @rebalance=${this.#rebalance}
        @scrub=${this.#scrub}
        @confirm-collection=${this.#confirmCollection}
        @clear-failures=${this.#clearFailures}
      ></shoal-repair-panel>
      <section class="charts">
        <div class="card" id="throughput">
          <h2>Throughput</h2>
          <shoal-throughput-chart .throughput=${this.cluster.throughput} .staleSince=${stale}></shoal-throughput-chart>
        </div>
        <div class="card" id="fill">
          <h2>How full each node is</h2>
          ${shown.length > 0 ? html`<shoal-node-fill-chart .nodes=${[...shown].sort(byStatusKindId)}></shoal-node-fill-chart>` : html`<p class="muted">No nodes to show.</p>`}
        </div>
      </section>
      <div class="section-head">
        <h2>Nodes</h2>
        <div class="legend">
          <span class="disk">${diskIcon} ${disks} disk</span>
          <span class="browser">${browserIcon} ${nodes.length - disks} browser</span>
        </div>
      </div>
      ${offline.length > 0 ? this.#renderOfflineTools(offline.length, removable) : ''}
      ${nodes.length === 0 ? this.#renderEmpty() : this.#renderNodes(shown, stale)}
      <shoal-invites-panel .nodeCount=${nodes.length}></shoal-invites-panel>
    `;
  }

  /** Hiding offline nodes, and removing at once those whose removal loses nothing. */
  #renderOfflineTools(count: number, removable: NodeInfo[]) {
    return html`<div class="offline-tools">
      <label><input type="checkbox" id="hide-offline" .checked=${this.hideOffline} @change=${this.#toggleHideOffline} /> Hide ${plural(count, 'offline node')}</label>
      ${removable.length > 0
        ? html`<shoal-confirm-button
            id="remove-safe"
            label=${`Remove ${plural(removable.length, 'offline node')} safe to remove`}
            question=${`Remove ${removable.map((n) => n.id).join(', ')}?`}
            subject=${removable.map((n) => n.id).join(', ')}
            busy-label="Removing…"
            ?busy=${this.removingSafe}
            @confirm=${() => this.#removeSafe(removable)}
          ></shoal-confirm-button>`
        : html`<span class="muted">None of them is safe to remove yet: repair still needs their chunks.</span>`}
    </div>`;
  }

  #toggleHideOffline(e: Event): void {
    this.hideOffline = (e.target as HTMLInputElement).checked;
    localStorage.setItem(HIDE_OFFLINE_KEY, this.hideOffline ? '1' : '0');
  }

  /** Not forced: a node that became unsafe since the list was fetched is refused and named. */
  async #removeSafe(nodes: NodeInfo[]): Promise<void> {
    this.removingSafe = true;
    try {
      const results = await Promise.allSettled(nodes.map((n) => client.removeNode(n.id)));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[nodes[i]!.id, describeError(r.reason, NODE_ACTION_TITLES)] as const] : []));
      this.nodeProblems = new Map([...this.nodeProblems, ...failed]);
    } finally {
      this.removingSafe = false;
      this.#changed();
    }
  }

  async #clearFailures(): Promise<void> {
    this.clearingFailures = true;
    await this.#askRepair(() => client.clearRepairFailures());
    this.clearingFailures = false;
  }

  /**
   * Opens a tab that becomes a node with a single-use invite, adopting a store a closed tab left
   * behind if there is one. The tab is opened at the click and sent on once the invite is made:
   * browsers let a click open a tab, not the answer to a request. Where one is blocked all the
   * same, this tab goes to the node page instead.
   */
  async #addThisBrowser(): Promise<void> {
    const tab = window.open('', '_blank');
    // What rel=noopener did for the link this was: the node's tab gets no handle on the dashboard.
    if (tab) tab.opener = null;
    this.addingBrowser = true;
    try {
      const { token } = await client.createInvite(THIS_BROWSER_INVITE);
      const url = new URL(`/node?adopt=1&invite=${encodeURIComponent(token)}`, location.origin).href;
      if (tab) tab.location.href = url;
      else location.assign(url);
      this.problem = null;
    } catch (err) {
      tab?.close();
      this.problem = describeError(err);
    } finally {
      this.addingBrowser = false;
    }
  }

  #renderNodes(nodes: NodeInfo[], staleSince: number | null) {
    return html`<section class="nodes" @node-action=${(e: CustomEvent<NodeActionDetail>) => this.#onNodeAction(e.detail)}>
      ${repeat(
        [...nodes].sort(byStatusKindId),
        (n) => n.id,
        (n) =>
          html`<shoal-node-card .node=${n} .staleSince=${staleSince} .busy=${this.nodeBusy.get(n.id) ?? null} .problem=${this.nodeProblems.get(n.id) ?? null}></shoal-node-card>`,
      )}
    </section>`;
  }

  async #onNodeAction({ id, action }: NodeActionDetail): Promise<void> {
    this.nodeProblems = without(this.nodeProblems, id);
    if (action === 'dismiss' || this.nodeBusy.has(id)) return;
    this.nodeBusy = new Map([...this.nodeBusy, [id, action]]);
    try {
      if (action === 'drain' || action === 'undrain') await client.drainNode(id, action === 'drain');
      else if (action === 'trust') await client.trustNode(id);
      else await client.removeNode(id, { force: action === 'force-remove' });
    } catch (err) {
      this.nodeProblems = new Map([...this.nodeProblems, [id, describeError(err, NODE_ACTION_TITLES)]]);
    } finally {
      this.nodeBusy = without(this.nodeBusy, id);
      this.#changed();
    }
  }

  async #rebalance(): Promise<void> {
    this.requestingRebalance = true;
    await this.#askRepair(() => client.rebalance());
    this.requestingRebalance = false;
  }

  /**
   * A request answered with the repair queue's numbers (a rebalance runs, failures cleared): the
   * panel shows them before the stream does. Never throws: a refusal is shown as the page's problem.
   */
  async #askRepair(call: () => Promise<RepairStats>): Promise<void> {
    try {
      const stats = await call();
      this.problem = null;
      this.dispatchEvent(new CustomEvent<RepairStats>('repair-stats', { detail: stats, bubbles: true, composed: true }));
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.#changed();
    }
  }

  async #scrub(): Promise<void> {
    this.requestingScrub = true;
    try {
      const nodes = await client.scrub();
      this.problem = null;
      this.scrubNote = `Scrub asked of ${plural(nodes.length, 'node')} at ${new Date().toLocaleTimeString()}: each re-hashes its chunks, and any corrupt copy is repaired.`;
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.requestingScrub = false;
    }
  }

  async #confirmCollection(): Promise<void> {
    this.confirmingCollection = true;
    try {
      await client.confirmCollection();
      this.problem = null;
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.confirmingCollection = false;
      this.#changed();
    }
  }

  #changed(): void {
    this.dispatchEvent(new CustomEvent('cluster-changed', { bubbles: true, composed: true }));
  }

  #renderEmpty() {
    return html`<div class="card empty">
      <p><strong>No storage nodes yet.</strong></p>
      <p>Add this browser with the button above, or start a disk node:</p>
      <p><code>npx shoal node create node1 --storage 1GB && npx shoal node start node1</code></p>
    </div>`;
  }
}

function without<V>(map: ReadonlyMap<string, V>, key: string): ReadonlyMap<string, V> {
  if (!map.has(key)) return map;
  const next = new Map(map);
  next.delete(key);
  return next;
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-dashboard-page': ShoalDashboardPage;
  }
}
