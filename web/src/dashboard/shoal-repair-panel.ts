import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ClusterHealth } from '../../../shared/api-types.ts';
import { clock, fraction, plural } from '../common/format.ts';
import '../common/shoal-bar.ts';
import '../common/shoal-confirm-button.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';

/**
 * What the cluster's self-healing is doing, worst first: 'unavailable' (chunks with no copy
 * online), 'degraded' (too few copies, repair not started yet: it waits --repair-after), 'healing'
 * (copies being made), 'rebalancing' or 'moving' (chunks moved on purpose: a rebalance, a drain,
 * surplus copies trimmed), 'healthy'. The panel's host carries it as its `state` attribute.
 */
export type RepairState = 'unavailable' | 'degraded' | 'healing' | 'rebalancing' | 'moving' | 'healthy';

export function repairState(health: ClusterHealth): RepairState {
  const working = health.repair.queued + health.repair.active > 0;
  if (health.unavailableChunks > 0) return 'unavailable';
  if (health.underReplicatedChunks > 0) return working ? 'healing' : 'degraded';
  if (health.repair.rebalancing) return 'rebalancing';
  return working ? 'moving' : 'healthy';
}

const HEADLINE: Record<RepairState, string> = {
  unavailable: 'Data unavailable',
  degraded: 'Degraded',
  healing: 'Healing',
  rebalancing: 'Rebalancing',
  moving: 'Moving chunks',
  healthy: 'Healthy',
};

const have = (n: number) => (n === 1 ? 'has' : 'have');

const EXPLAIN: Record<RepairState, (h: ClusterHealth) => string> = {
  unavailable: (h) => `${plural(h.unavailableChunks, 'chunk')} ${have(h.unavailableChunks)} no copy online and cannot be repaired until a node holding one returns.`,
  degraded: (h) =>
    `${plural(h.underReplicatedChunks, 'chunk')} ${have(h.underReplicatedChunks)} fewer than ${h.replicas} copies online. Repair starts once a node has been gone longer than the repair delay.`,
  healing: (h) => `Copying ${plural(h.underReplicatedChunks, 'under-replicated chunk')} from surviving copies to other nodes.`,
  rebalancing: () => 'Moving chunks toward the nodes the placement rule picks, at the repair rate.',
  moving: () => 'Moving chunks off draining nodes and trimming surplus copies.',
  healthy: (h) => `Every chunk has its ${h.replicas} copies online.`,
};

/** Jobs the repair queue has ended in any way; they only grow, but for clearing the failures. */
const jobsEnded = (h: ClusterHealth) => h.repair.done + h.repair.removed + h.repair.failed;

/** How far back the pace behind a time-left estimate looks. */
const PACE_WINDOW_MS = 60_000;

/** "about 3 min left", from the pace of the last minute; '' until there is a pace to go by. */
export function timeLeft(left: number, pace: ReadonlyArray<{ at: number; ended: number }>): string {
  const first = pace[0];
  const last = pace.at(-1);
  if (!first || !last || last.at - first.at < 2000 || last.ended <= first.ended) return 'estimating time left…';
  const seconds = (left * (last.at - first.at)) / (last.ended - first.ended) / 1000;
  if (seconds < 60) return 'under a minute left';
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min left`;
  return `about ${(seconds / 3600).toFixed(1)} h left`;
}

/**
 * The dashboard's self-healing panel: one headline state, the repair queue's numbers, the
 * rebalance and scrub buttons, why repair jobs failed with a button to clear the count, and, when
 * collection paused at its limit, why and a button to let it go on. Its numbers follow repair.progress events several times a second, so it is a small
 * element of its own and the node cards do not re-render with it. Emits `rebalance`, `scrub`,
 * `clear-failures` and `confirm-collection`; the page makes the calls.
 */
@customElement('shoal-repair-panel')
export class ShoalRepairPanel extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .card {
        display: grid;
        gap: 0.9rem;
        border-left: 4px solid var(--tone);
        --tone: var(--border);
      }
      :host([state='healthy']) .card {
        --tone: var(--ok);
      }
      :host([state='degraded']) .card,
      :host([state='healing']) .card {
        --tone: var(--warn);
        background: color-mix(in srgb, var(--warn-soft) 45%, var(--surface));
      }
      :host([state='unavailable']) .card {
        --tone: var(--bad);
        background: color-mix(in srgb, var(--bad-soft) 45%, var(--surface));
      }
      :host([state='rebalancing']) .card,
      :host([state='moving']) .card {
        --tone: var(--accent);
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        justify-content: space-between;
        gap: 0.75rem 1rem;
      }
      .title {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        flex-wrap: wrap;
      }
      .explain {
        color: var(--muted);
        font-size: 0.9rem;
        margin-top: 0.2rem;
      }
      .buttons {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
      }
      .progress {
        display: grid;
        gap: 0.3rem;
        font-size: 0.85rem;
        color: var(--muted);
        font-variant-numeric: tabular-nums;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr));
        gap: 0.6rem 1rem;
        padding-top: 0.8rem;
        border-top: 1px solid var(--border);
      }
      dd {
        font-size: 1.15rem;
        font-weight: 650;
      }
      dd small {
        font-size: 0.78rem;
        font-weight: 500;
        color: var(--muted);
      }
      .warn dd {
        color: var(--warn);
      }
      .bad dd {
        color: var(--bad);
      }
      .note {
        font-size: 0.85rem;
        color: var(--muted);
      }
      .failures {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        justify-content: space-between;
        gap: 0.6rem 1rem;
        padding: 0.75rem 1rem;
        border-radius: var(--radius);
        background: var(--bad-soft);
        font-size: 0.88rem;
      }
      .failures div {
        display: grid;
        gap: 0.3rem;
        flex: 1 1 20rem;
      }
      .failures strong {
        color: var(--bad);
      }
      .paused {
        display: flex;
        flex-wrap: wrap;
        align-items: flex-start;
        justify-content: space-between;
        gap: 0.6rem 1rem;
        padding: 0.75rem 1rem;
        border-radius: var(--radius);
        background: var(--warn-soft);
        border: 1px solid color-mix(in srgb, var(--warn) 30%, transparent);
        font-size: 0.88rem;
      }
      .paused div {
        display: grid;
        gap: 0.3rem;
        flex: 1 1 20rem;
      }
      .paused li {
        font-family: var(--mono);
        font-size: 0.8rem;
      }
    `,
  ];

  @property({ attribute: false }) health: ClusterHealth | null = null;
  /** A rebalance request is on its way to the gateway. */
  @property({ type: Boolean }) requestingRebalance = false;
  @property({ type: Boolean }) requestingScrub = false;
  @property({ type: Boolean }) confirmingCollection = false;
  /** What the last scrub request did, shown under the numbers. */
  @property() scrubNote = '';
  /** When the figures are not live, the time they are from: the headline then says nothing as current. */
  @property({ attribute: false }) staleSince: number | null = null;
  @property({ type: Boolean }) clearingFailures = false;
  /** Ended-jobs counts over the last PACE_WINDOW_MS, for the time-left estimate. */
  #pace: Array<{ at: number; ended: number }> = [];
  /**
   * The ended-jobs count when the current stretch of work began, so the bar shows this episode's
   * progress rather than everything since the gateway started. Plain field: set with `health`.
   */
  #episodeBase: number | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('health') && !changed.has('staleSince')) return;
    const h = this.health;
    this.setAttribute('state', this.staleSince !== null ? 'stale' : h ? repairState(h) : 'loading');
    this.toggleAttribute('rebalancing', h?.repair.rebalancing ?? false);
    if (!h || repairState(h) === 'healthy') this.#episodeBase = null;
    else this.#episodeBase = Math.min(this.#episodeBase ?? Infinity, jobsEnded(h));
    const now = Date.now();
    this.#pace = h && h.repair.queued + h.repair.active > 0 ? [...this.#pace.filter((p) => now - p.at <= PACE_WINDOW_MS && p.ended <= jobsEnded(h)), { at: now, ended: jobsEnded(h) }] : [];
  }

  override render() {
    const h = this.health;
    const state = h ? repairState(h) : null;
    const rebalancing = this.requestingRebalance || (h?.repair.rebalancing ?? false);
    return html`<section class="card">
      <div class="head">
        <div>
          <div class="title" role="status">
            <h2>Self-healing</h2>
            ${this.staleSince !== null
              ? html`<shoal-status id="repair-state" status="stale" label=${`unknown since ${clock(this.staleSince)}`}></shoal-status>`
              : html`<shoal-status id="repair-state" status=${state ?? 'loading'} label=${state ? HEADLINE[state] : 'loading'}></shoal-status>`}
          </div>
          <p class="explain" id="repair-explain">
            ${this.staleSince !== null
              ? `The gateway cannot be reached. These figures are as of ${clock(this.staleSince)}, not live.`
              : h && state
                ? EXPLAIN[state](h)
                : 'Asking the gateway…'}
          </p>
        </div>
        <div class="buttons">
          <button class="small" id="scrub" ?disabled=${!h || this.requestingScrub} title="Ask every online node to re-hash its chunks now; corrupt copies are repaired" @click=${() => this.#emit('scrub')}>
            ${this.requestingScrub ? 'Asking…' : 'Scrub now'}
          </button>
          <button class="small" id="rebalance" ?disabled=${!h || rebalancing} title="Move existing chunks toward the placement rule, for example onto a new node" @click=${() => this.#emit('rebalance')}>
            ${rebalancing ? 'Rebalancing…' : 'Rebalance'}
          </button>
        </div>
      </div>
      ${h && this.staleSince === null ? this.#renderProgress(h) : ''}
      ${h && h.orphans.paused.length > 0 ? this.#renderPaused(h) : ''}
      ${h && h.repair.failed > 0 ? this.#renderFailures(h) : ''}
      <dl>
        ${this.#stat('under-replicated', 'Under-replicated', h?.underReplicatedChunks, h && h.underReplicatedChunks > 0 ? 'warn' : '')}
        ${this.#stat('queued', 'Queued', h?.repair.queued)}
        ${this.#stat('active', 'In flight', h?.repair.active)}
        ${this.#stat('done', 'Copies made', h?.repair.done)}
        ${this.#stat('removed', 'Copies removed', h?.repair.removed)}
        ${this.#stat('failed', 'Failed', h?.repair.failed, h && h.repair.failed > 0 ? 'bad' : '')}
        <div data-stat="orphans">
          <dt>Unreferenced chunks collected</dt>
          <dd>
            ${h ? h.orphans.collected : '–'}${h && h.orphans.pending > 0 ? html` <small>${h.orphans.pending} pending${h.orphans.paused.length > 0 ? ', paused' : ''}</small>` : ''}
          </dd>
        </div>
      </dl>
      ${this.scrubNote ? html`<p class="note" id="scrub-note">${this.scrubNote}</p>` : ''}
    </section>`;
  }

  /** A bar while there is queued or running work: how much of this stretch is done. */
  #renderProgress(h: ClusterHealth) {
    const left = h.repair.queued + h.repair.active;
    if (left === 0 || this.#episodeBase === null) return '';
    const ended = jobsEnded(h) - this.#episodeBase;
    const total = ended + left;
    return html`<div class="progress">
      <shoal-bar tone="progress" .value=${fraction(ended, total)} label="repair progress"></shoal-bar>
      <span id="repair-progress">${ended} of ${plural(total, 'job')} done · <span id="time-left">${timeLeft(left, this.#pace)}</span></span>
    </div>`;
  }

  /** Why jobs failed, and the admin's way to set the count back once it is understood. */
  #renderFailures(h: ClusterHealth) {
    const last = h.repair.lastFailure;
    return html`<div class="failures" id="repair-failures">
      <div>
        <strong>${plural(h.repair.failed, 'repair job')} failed</strong>
        <span id="failure-reason"
          >${last ? `Newest, at ${clock(Date.parse(last.at))}: ${last.reason}.` : 'The gateway did not say why.'} A failed job is tried again at the next sweep while copies are still missing.</span
        >
      </div>
      <button class="small" id="clear-failures" ?disabled=${this.clearingFailures || this.staleSince !== null} @click=${() => this.#emit('clear-failures')}>
        ${this.clearingFailures ? 'Clearing…' : 'Clear failures'}
      </button>
    </div>`;
  }

  /** Collection stopped where it would have deleted more of a node than it may without asking. */
  #renderPaused(h: ClusterHealth) {
    return html`<div class="paused" id="collection-paused" role="alert">
      <div>
        <strong>Collection paused</strong>
        <span>It deletes at most a small share of a node's chunks in one grace period by itself, in case the gateway has lost track of files.</span>
        <ul>
          ${h.orphans.paused.map((p) => html`<li data-node=${p.nodeId}>${p.reason}</li>`)}
        </ul>
      </div>
      <shoal-confirm-button
        id="confirm-collection"
        label="Confirm collection"
        question="Delete them?"
        busy-label="Confirming…"
        ?busy=${this.confirmingCollection}
        @confirm=${() => this.#emit('confirm-collection')}
      ></shoal-confirm-button>
    </div>`;
  }

  #stat(id: string, label: string, value: number | undefined, tone = '') {
    return html`<div data-stat=${id} class=${tone}>
      <dt>${label}</dt>
      <dd>${value ?? '–'}</dd>
    </div>`;
  }

  #emit(type: 'rebalance' | 'scrub' | 'confirm-collection' | 'clear-failures'): void {
    this.dispatchEvent(new CustomEvent(type));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-repair-panel': ShoalRepairPanel;
  }
}
