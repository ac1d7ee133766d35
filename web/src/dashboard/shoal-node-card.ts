import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { NodeInfo } from '../../../shared/api-client.ts';
import type { ErrorText } from '../common/error-text.ts';
import { clock, formatRate, fraction, plural, timeAgo } from '../common/format.ts';
import { browserIcon, diskIcon } from '../common/icons.ts';
import '../common/shoal-bar.ts';
import '../common/shoal-confirm-button.ts';
import '../common/shoal-size.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';

const KIND_LABEL = { disk: 'Disk', browser: 'Browser tab' } as const;

/** What a node card asks of the page; 'dismiss' clears the problem it shows. */
export type NodeAction = 'drain' | 'undrain' | 'trust' | 'remove' | 'force-remove' | 'dismiss';

export interface NodeActionDetail {
  id: string;
  action: NodeAction;
}

/**
 * One node on the dashboard. Disk nodes and browser tabs differ in colour and icon; the host element
 * carries node-id, kind and status attributes, and `quarantined` while it is, so tests and styles
 * can find a node by what it is. Drain, undrain, trust and remove go up as `node-action` events; the page runs them and hands back
 * `busy` while one is under way and `problem` when the gateway said no.
 */
@customElement('shoal-node-card')
export class ShoalNodeCard extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .card {
        border-top: 3px solid var(--kind);
        display: flex;
        flex-direction: column;
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
      /* Offline cards step back by their colours, not by fading: text keeps its AA contrast. */
      :host([status='offline']) .card {
        background: var(--surface-2);
        border-top-color: var(--border);
        box-shadow: none;
      }
      :host([status='offline']) .icon {
        color: var(--muted);
        background: var(--track);
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
        padding-top: 0.7rem;
        border-top: 1px solid var(--border);
      }
      dd {
        font-size: 0.88rem;
        white-space: nowrap;
      }
      .drain {
        display: grid;
        gap: 0.35rem;
        font-size: 0.85rem;
        color: var(--accent);
        font-weight: 550;
      }
      .drain.done {
        color: var(--ok);
      }
      .note {
        font-size: 0.85rem;
        color: var(--muted);
      }
      .quarantine {
        display: grid;
        gap: 0.4rem;
        padding: 0.6rem 0.75rem;
        border-radius: 8px;
        background: var(--warn-soft);
        font-size: 0.85rem;
      }
      .quarantine strong {
        color: var(--warn);
        font-weight: 600;
      }
      .problem {
        position: relative;
        display: grid;
        gap: 0.4rem;
        padding: 0.6rem 0.75rem;
        border-radius: 8px;
        background: var(--bad-soft);
        border: 1px solid color-mix(in srgb, var(--bad) 25%, transparent);
        font-size: 0.85rem;
      }
      .problem strong {
        color: var(--bad);
        font-weight: 600;
        padding-right: 1.2rem;
      }
      .problem .warning {
        color: var(--warn);
      }
      .dismiss {
        position: absolute;
        top: 0.3rem;
        right: 0.35rem;
        padding: 0 0.35rem;
        border: none;
        background: none;
        color: var(--bad);
        font-size: 1.1rem;
        line-height: 1.4;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
      }
      footer {
        margin-top: auto;
        justify-content: flex-end;
      }
    `,
  ];

  @property({ attribute: false }) node!: NodeInfo;
  /** The action being run for this node right now, if any. */
  @property({ attribute: false }) busy: NodeAction | null = null;
  /** Why the last action failed; a NODE_NOT_SAFE_TO_REMOVE refusal offers to remove anyway. */
  @property({ attribute: false }) problem: ErrorText | null = null;
  /** When the figures are not live, the time they are from: the status then is not shown as current. */
  @property({ attribute: false }) staleSince: number | null = null;
  /**
   * The most chunks seen on the node since its drain began, the whole that drain progress is a
   * part of. Plain field: it only changes together with `node`.
   */
  #drainFrom = 0;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('node')) return;
    this.setAttribute('node-id', this.node.id);
    this.setAttribute('kind', this.node.kind);
    this.setAttribute('status', this.node.status);
    this.toggleAttribute('quarantined', this.node.quarantine !== null);
    this.#drainFrom = this.node.status === 'draining' ? Math.max(this.#drainFrom, this.node.recordedChunks) : 0;
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
        ${this.staleSince !== null
          ? html`<shoal-status status="stale" label=${`${n.status} at ${clock(this.staleSince)}`}></shoal-status>`
          : html`<shoal-status status=${n.status}></shoal-status>`}
      </div>
      <div>
        <shoal-bar .value=${fraction(n.usedBytes, n.capacityBytes)} label=${`storage used on ${n.id}`}></shoal-bar>
        <div class="usage">
          <span><shoal-size .bytes=${n.usedBytes}></shoal-size> of <shoal-size .bytes=${n.capacityBytes}></shoal-size></span>
          <span>${Math.round(fraction(n.usedBytes, n.capacityBytes) * 100)} %</span>
        </div>
      </div>
      <dl>
        <div><dt>Chunks</dt><dd class="chunks">${n.chunkCount}</dd></div>
        <div><dt>Last seen</dt><dd>${timeAgo(n.lastSeenAt)}</dd></div>
        <div><dt>Writing</dt><dd>${online && this.staleSince === null ? formatRate(n.writeBps) : '–'}</dd></div>
        <div><dt>Reading</dt><dd>${online && this.staleSince === null ? formatRate(n.readBps) : '–'}</dd></div>
      </dl>
      ${this.#renderQuarantine()} ${this.#renderState()} ${this.problem ? this.#renderProblem(this.problem) : ''}
      <footer class="row">
        ${n.status === 'online' ? this.#actionButton('drain', 'Drain', 'Draining…', 'Move every chunk off this node so it can be removed without losing a copy') : ''}
        ${n.status === 'draining' ? this.#actionButton('undrain', 'Undrain', 'Undraining…', 'Take new chunks again and keep the ones it still has') : ''}
        <shoal-confirm-button
          id="remove"
          label="Remove"
          subject=${n.id}
          question="Really remove?"
          busy-label="Removing…"
          ?busy=${this.busy === 'remove'}
          @confirm=${() => this.#ask('remove')}
        ></shoal-confirm-button>
      </footer>
    </article>`;
  }

  #actionButton(action: 'drain' | 'undrain' | 'trust', label: string, busyLabel: string, help: string) {
    return html`<button class="small" id=${action} aria-label=${`${this.busy === action ? busyLabel : label} ${this.node.id}`} ?disabled=${this.busy !== null} title=${help} @click=${() => this.#ask(action)}>
      ${this.busy === action ? busyLabel : label}
    </button>`;
  }

  /** Why the gateway stopped trusting the node, and the admin's way to trust it again. */
  #renderQuarantine() {
    const reason = this.node.quarantine;
    if (reason === null) return '';
    return html`<div class="quarantine" id="quarantine">
      <strong>Quarantined: takes no new chunks</strong>
      <span id="quarantine-reason">It ${reason}. Its copies are still read, and every read is checked.</span>
      <div class="row">
        ${this.#actionButton('trust', 'Clear quarantine', 'Clearing…', 'Trust this node again: it takes new chunks and its copies count again')}
      </div>
    </div>`;
  }

  /** How far a drain has come, or whether an offline node can go without loss. */
  #renderState() {
    const n = this.node;
    if (n.status === 'draining') {
      if (n.recordedChunks === 0) return html`<div class="drain done" id="drain-state">Drained — safe to remove</div>`;
      const moved = this.#drainFrom - n.recordedChunks;
      return html`<div class="drain" id="drain-state">
        <span>Draining · ${plural(n.recordedChunks, 'chunk')} to move</span>
        <shoal-bar tone="progress" .value=${fraction(moved, this.#drainFrom)} label=${`drain progress of ${n.id}`}></shoal-bar>
      </div>`;
    }
    if (n.status === 'offline' && n.recordedChunks > 0) {
      return html`<p class="note" id="drain-state">
        ${n.atRiskChunks === 0 ? 'Every chunk it held has enough copies elsewhere — safe to remove.' : `${plural(n.atRiskChunks, 'chunk')} it held still ${n.atRiskChunks === 1 ? 'waits' : 'wait'} for repair.`}
      </p>`;
    }
    return '';
  }

  /** The gateway's refusal in its own words; only after one is removing by force offered. */
  #renderProblem(problem: ErrorText) {
    const refused = problem.code === 'NODE_NOT_SAFE_TO_REMOVE';
    return html`<div class="problem" role="alert">
      <button class="dismiss" aria-label=${`Dismiss the message about ${this.node.id}`} title="Dismiss" @click=${() => this.#ask('dismiss')}>×</button>
      <strong>${problem.title}</strong>
      <span>${problem.message}</span>
      ${refused
        ? html`<span class="warning">Removing anyway leaves those chunks short of copies until repair rebuilds them; a chunk with no other copy is lost.</span>
            <div class="row">
              <shoal-confirm-button
                id="force-remove"
                label="Remove anyway"
                subject=${this.node.id}
                question="Really, without its copies?"
                busy-label="Removing…"
                ?busy=${this.busy === 'force-remove'}
                @confirm=${() => this.#ask('force-remove')}
              ></shoal-confirm-button>
            </div>`
        : ''}
    </div>`;
  }

  #ask(action: NodeAction): void {
    this.dispatchEvent(new CustomEvent<NodeActionDetail>('node-action', { detail: { id: this.node.id, action }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-node-card': ShoalNodeCard;
  }
}
