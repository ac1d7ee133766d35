import { css, html, LitElement } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { CLOSE } from '../../../shared/protocol.ts';
import { parseSize } from '../../../shared/units.ts';
import { client } from '../common/api.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { formatBytes, fraction, plural } from '../common/format.ts';
import '../common/shoal-bar.ts';
import '../common/shoal-confirm-button.ts';
import '../common/shoal-size.ts';
import '../common/shoal-stat.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';
import { NodeAgentController, type NodeTabOptions, type NodeTabState } from './node-agent-controller.ts';
import './shoal-activity-log.ts';
import { maxCapacity } from './storage-budget.ts';

const MiB = 1024 * 1024;
const CAPACITY_STEP = 64 * MiB;

/**
 * The words for a tab node's state, the same wherever it shows (this page, the app's navigation):
 * the agent's 'waiting' is "reconnecting" and its 'stopped' is "paused", as a person says them.
 */
export const STATE_LABEL: Record<NodeTabState, string> = {
  starting: 'starting',
  choosing: 'not started',
  connecting: 'connecting',
  online: 'online',
  waiting: 'reconnecting',
  stopped: 'paused',
  rejected: 'refused',
  unsupported: 'unsupported',
  uninvited: 'not a node',
};

/** Why the gateway turned this node away, in a person's words; its own reason is shown beneath. */
const REFUSALS: Record<number, string> = {
  [CLOSE.NOT_ADMITTED]: 'The invite link is not valid: it was revoked, it expired, or it has been used up.',
  [CLOSE.NOT_ENROLLED]: 'The cluster does not know this node: it was removed, or it never joined.',
  [CLOSE.IDENTITY_MISMATCH]: 'Another node already uses this node’s id.',
  [CLOSE.REMOVED]: 'This node was removed from the cluster.',
  [CLOSE.REPLACED]: 'This node connected again from another tab or browser, which now serves it.',
};

export interface NodeStateDetail {
  state: NodeTabState;
  nodeId: string | null;
}

/**
 * Turns this tab into a storage node for as long as the page lives. A new node joins with the
 * invite of `?invite=…`, a link the dashboard hands out; without one, and with no node of its own
 * to resume or adopt, the tab serves nothing and says how to join. `?adopt=1` takes over a store
 * left by a closed tab instead of starting empty; with only an invite, a tab where closed tabs left
 * stores holding chunks first offers to reuse one ('choosing'), unless `?fresh=1`; `?capacity=2GB`
 * sets a new node's capacity.
 * Emits `node-state` whenever the node's state changes. Its host element carries node-id, state
 * and chunks attributes, so scripts and tests can read the node without looking inside.
 */
@customElement('shoal-node-page')
export class ShoalNodePage extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .status {
        display: flex;
        align-items: center;
        gap: 0.75rem;
      }
      .tiles {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
        gap: 1rem;
      }
      .columns {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr));
        gap: 1rem;
        margin-top: 1rem;
        align-items: start;
      }
      .card h2 {
        margin-bottom: 0.75rem;
      }
      .card p + p {
        margin-top: 0.5rem;
      }
      .capacity {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
        margin: 0.25rem 0 0.75rem;
      }
      .capacity input {
        flex: 1;
        min-width: 10rem;
        accent-color: var(--accent);
      }
      .capacity output {
        font-weight: 650;
        min-width: 5.5rem;
        font-variant-numeric: tabular-nums;
      }
      .left-behind li {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        flex-wrap: wrap;
        padding: 0.5rem 0;
        border-bottom: 1px solid var(--border);
      }
      .left-behind li:last-child {
        border-bottom: none;
      }
      .left-behind .id {
        flex: 1;
        font-weight: 600;
      }
      .banner {
        margin-bottom: 1rem;
      }
      .banner button,
      .banner p + p {
        margin-top: 0.5rem;
      }
      .ok {
        color: var(--ok);
      }
    `,
  ];

  readonly #node = new NodeAgentController(this, nodeOptions(new URLSearchParams(location.search)));
  @state() private draftCapacity: number | null = null;
  @state() private problem: ErrorText | null = null;
  #announced = '';

  override render() {
    const node = this.#node;
    if (node.state === 'choosing') return this.#renderChoice();
    if (node.state === 'uninvited' || (node.state === 'rejected' && !node.admitted)) return this.#renderNotANode();
    const { stats, identity, budget } = node;
    const capacity = identity?.capacityBytes ?? 0;
    const paused = node.state === 'stopped';
    return html`
      <header class="page-head">
        <div>
          <h1>This tab is a storage node</h1>
          <p>Keep the tab open, in the background is fine: the cluster stores chunks in this browser for as long as it is.</p>
        </div>
        <div class="status">
          <shoal-status id="state" status=${node.state} label=${STATE_LABEL[node.state]}></shoal-status>
          <button id="pause" ?disabled=${!identity || node.state === 'rejected'} @click=${() => (paused ? node.resume() : node.pause())}>
            ${paused ? 'Resume' : 'Pause'} ${identity?.id ?? 'this node'}
          </button>
        </div>
      </header>
      ${node.state === 'rejected' ? this.#renderRefusal() : ''}
      ${node.state === 'unsupported' ? html`<p class="banner" role="alert">${node.reason}</p>` : ''}
      ${this.#renderProblem()}
      <section class="tiles">
        <shoal-stat id="node-id" mono label="Node" value=${identity?.id ?? '…'}>
          <span>${node.how === 'adopted' ? 'reused from a closed tab' : node.how === 'resumed' ? 'kept across a reload' : 'new in this tab'}</span>
        </shoal-stat>
        <shoal-stat id="gateways" label="Gateways linked" value=${String(node.gateways.filter((g) => g.online).length)}>
          <span class="mono">${node.gateways.map((g) => new URL(g.url).host).join(' · ')}</span>
        </shoal-stat>
        <shoal-stat id="chunks" label="Chunks held" value=${String(stats.chunkCount)}></shoal-stat>
        <shoal-stat id="used" label="Stored">
          <span slot="value"><shoal-size .bytes=${stats.usedBytes}></shoal-size></span>
          <shoal-bar .value=${fraction(stats.usedBytes, capacity)} label="node storage used"></shoal-bar>
          <span>of <shoal-size .bytes=${capacity}></shoal-size> offered</span>
        </shoal-stat>
        <shoal-stat id="transfer" label="Transferred">
          <span slot="value"><shoal-size .bytes=${stats.bytesIn + stats.bytesOut}></shoal-size></span>
          <span><shoal-size .bytes=${stats.bytesIn}></shoal-size> received · <shoal-size .bytes=${stats.bytesOut}></shoal-size> sent</span>
        </shoal-stat>
      </section>
      <div class="columns">
        <section class="card">
          <h2>Capacity</h2>
          ${budget && identity ? this.#renderCapacity(capacity, maxCapacity(budget, stats.usedBytes)) : html`<p class="muted">Asking the browser…</p>`}
          ${budget
            ? html`<p class="muted">
                  This browser lets the site store about <shoal-size .bytes=${budget.quotaBytes}></shoal-size>; <shoal-size .bytes=${budget.usageBytes}></shoal-size> is in use.
                </p>
                <p class=${budget.persisted ? 'ok' : 'muted'}>
                  ${budget.persisted ? 'Storage is persistent: the browser will not clear it to free space.' : 'Storage is best-effort: the browser may clear it when the disk runs low. The cluster then re-replicates what was here.'}
                </p>`
            : ''}
        </section>
        ${node.leftBehind.length > 0 ? this.#renderLeftBehind() : ''}
        <section class="card">
          <h2>Activity</h2>
          <shoal-activity-log .entries=${node.activity}></shoal-activity-log>
        </section>
      </div>
    `;
  }

  protected override updated(): void {
    const { state, identity, stats } = this.#node;
    this.setAttribute('state', state);
    this.setAttribute('chunks', String(stats.chunkCount));
    if (identity) this.setAttribute('node-id', identity.id);
    const announce = `${state}:${identity?.id}`;
    if (announce === this.#announced) return;
    this.#announced = announce;
    const detail: NodeStateDetail = { state, nodeId: identity?.id ?? null };
    this.dispatchEvent(new CustomEvent<NodeStateDetail>('node-state', { detail, bubbles: true, composed: true }));
  }

  /**
   * No node to resume or adopt and no invite, or an invite the gateway turned down: nothing runs,
   * and the page says why and how a tab joins.
   */
  #renderNotANode() {
    const { state } = this.#node;
    return html`
      <header class="page-head">
        <div>
          <h1>This tab is not a storage node</h1>
          <p>A browser joins the cluster through an invite link, not by opening this page.</p>
        </div>
        <shoal-status id="state" status=${state} label=${STATE_LABEL[state]}></shoal-status>
      </header>
      ${state === 'rejected' ? this.#renderRefusal() : ''} ${this.#renderProblem()}
      <div class="columns">
        <section class="card" id="join-help">
          <h2>Join with an invite link</h2>
          <p>If this browser runs on the gateway's machine, open the <a href="/">dashboard</a> and choose <strong>Add this browser as a node</strong>.</p>
          <p>Otherwise, on the gateway's machine, create an invite in the dashboard's <strong>Invites</strong> panel or with <code>npx shoal invite create</code>, and open its link in this browser.</p>
        </section>
        ${this.#node.leftBehind.length > 0 ? this.#renderLeftBehind() : ''}
      </div>
    `;
  }

  #renderRefusal() {
    const node = this.#node;
    return html`<div class="banner" role="alert" id="refusal">
      <p>${REFUSALS[node.refusal ?? 0] ?? 'This tab cannot serve as a node.'}<small>${node.reason}</small></p>
      ${node.canStartFresh
        ? html`<button @click=${() => node.startFresh()}>Start as a new node</button>`
        : html`<p>To join as a new node, open a new invite link from the dashboard.</p>`}
    </div>`;
  }

  /** A store of a closed tab that could not be deleted. */
  #renderProblem() {
    return this.problem ? html`<p class="banner" role="alert">${this.problem.title} <span class="mono">${this.problem.detail}</span></p>` : '';
  }

  /** Applied when the slider is let go (change), not while it moves: each change reconnects the node. */
  #renderCapacity(capacity: number, max: number) {
    const draft = this.draftCapacity ?? capacity;
    return html`<div class="capacity">
        <input
          type="range"
          id="capacity"
          aria-label="capacity offered to the cluster"
          aria-valuetext=${formatBytes(draft)}
          min=${CAPACITY_STEP}
          max=${Math.max(max, capacity)}
          step=${CAPACITY_STEP}
          .value=${String(draft)}
          @input=${(e: Event) => (this.draftCapacity = Number((e.target as HTMLInputElement).value))}
          @change=${this.#applyCapacity}
        />
        <output><shoal-size .bytes=${draft}></shoal-size></output>
      </div>
      <p class="muted">Up to <shoal-size .bytes=${max}></shoal-size> is free for this node. A change applies when you let go of the slider and is kept across reloads.</p>`;
  }

  /** Stores a closed tab left behind, offered before this tab makes a node of its own with the invite. */
  #renderChoice() {
    return html`
      <header class="page-head">
        <div>
          <h1>Reuse a store, or start a new node?</h1>
          <p>This browser still holds chunks of nodes whose tabs were closed. Reusing one brings its chunks back online; a new node starts empty.</p>
        </div>
        <shoal-status id="state" status="choosing" label=${STATE_LABEL.choosing}></shoal-status>
      </header>
      ${this.#renderProblem()}
      <div class="columns">
        ${this.#renderLeftBehind()}
        <section class="card" id="start-new">
          <h2>Start a new node</h2>
          <p class="muted">Joins the cluster with the invite link this tab was opened with.</p>
          <p><button id="start-fresh" @click=${() => this.#node.startFresh()}>Start a new node</button></p>
        </section>
      </div>
    `;
  }

  #renderLeftBehind() {
    return html`<section class="card">
      <h2>Stores left by closed tabs</h2>
      <p class="muted">Chunks a closed tab kept in this browser. Reuse one to bring them back online as this tab's node, or delete it to free the space.</p>
      <ul class="left-behind">
        ${repeat(
          this.#node.leftBehind,
          (o) => o.identity.id,
          (o) => html`<li>
            <span class="id mono">${o.identity.id}</span>
            <span class="muted">${plural(o.chunkCount, 'chunk')} · <shoal-size .bytes=${o.usedBytes}></shoal-size></span>
            <button class="small primary" aria-label=${`Reuse ${o.identity.id}`} @click=${() => this.#node.adopt(o.identity.id)}>Reuse</button>
            <shoal-confirm-button subject=${o.identity.id} @confirm=${() => this.#forget(o.identity.id)}></shoal-confirm-button>
          </li>`,
        )}
      </ul>
    </section>`;
  }

  async #forget(id: string): Promise<void> {
    try {
      await this.#node.forget(id);
      this.problem = null;
    } catch (err) {
      this.problem = describeError(err);
    }
  }

  async #applyCapacity(): Promise<void> {
    const draft = this.draftCapacity;
    this.draftCapacity = null;
    if (draft !== null) await this.#node.setCapacity(draft);
  }
}

function nodeOptions(params: URLSearchParams): NodeTabOptions {
  const capacity = params.get('capacity');
  let capacityBytes: number | undefined;
  try {
    capacityBytes = capacity ? parseSize(capacity) : undefined;
  } catch {
    capacityBytes = undefined;
  }
  return { client, adopt: params.get('adopt') === '1', fresh: params.get('fresh') === '1', capacityBytes, invite: params.get('invite') ?? undefined, onAdmitted: dropInviteFromAddress };
}

/** Once the node is in, a reload must not bring the invite again: it may be single-use, and is not needed. */
function dropInviteFromAddress(): void {
  const url = new URL(location.href);
  url.searchParams.delete('invite');
  history.replaceState(history.state, '', url);
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-node-page': ShoalNodePage;
  }
  interface HTMLElementEventMap {
    'node-state': CustomEvent<NodeStateDetail>;
  }
}
