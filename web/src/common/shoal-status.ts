import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

type Tone = 'ok' | 'warn' | 'bad' | 'idle' | 'moving';

/**
 * One vocabulary for node states, agent states, file health and the repair panel. 'moving' is data
 * being moved on purpose (a drain, a rebalance): nothing is wrong, but the cluster is busy.
 */
const TONES: Record<string, Tone> = {
  online: 'ok',
  active: 'ok',
  ok: 'ok',
  healthy: 'ok',
  draining: 'moving',
  moving: 'moving',
  rebalancing: 'moving',
  healing: 'warn',
  degraded: 'warn',
  connecting: 'warn',
  waiting: 'warn',
  reconnecting: 'warn',
  choosing: 'warn',
  starting: 'warn',
  unavailable: 'bad',
  suspect: 'bad',
  failed: 'bad',
  rejected: 'bad',
  unsupported: 'bad',
  offline: 'idle',
  stopped: 'idle',
  paused: 'idle',
  stale: 'idle',
  uninvited: 'idle',
};

/** States in which something is being done right now. */
const BUSY = new Set(['draining', 'moving', 'rebalancing', 'healing']);

@customElement('shoal-status')
export class ShoalStatus extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: inline-block;
      }
      span {
        display: inline-flex;
        align-items: center;
        gap: 0.4em;
        padding: 0.15em 0.6em;
        border-radius: 999px;
        font-size: 0.8rem;
        font-weight: 600;
        white-space: nowrap;
        background: var(--surface-2);
        color: var(--muted);
        border: 1px solid var(--border);
      }
      span::before {
        content: '';
        width: 0.5em;
        height: 0.5em;
        border-radius: 50%;
        background: currentColor;
      }
      .ok {
        background: var(--ok-soft);
        color: var(--ok);
        border-color: transparent;
      }
      .warn {
        background: var(--warn-soft);
        color: var(--warn);
        border-color: transparent;
      }
      .bad {
        background: var(--bad-soft);
        color: var(--bad);
        border-color: transparent;
      }
      .moving {
        background: var(--accent-soft);
        color: var(--accent);
        border-color: transparent;
      }
      /* Work under way: the dot breathes, so a busy cluster reads differently from a stuck one. */
      .busy::before {
        animation: pulse 1.2s ease-in-out infinite;
      }
      @keyframes pulse {
        50% {
          opacity: 0.25;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .busy::before {
          animation: none;
        }
      }
    `,
  ];

  @property() status = '';
  /** Shown instead of the status word. */
  @property() label = '';

  override render() {
    const busy = BUSY.has(this.status) ? 'busy' : '';
    return html`<span class="${TONES[this.status] ?? 'idle'} ${busy}">${this.label || this.status}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-status': ShoalStatus;
  }
}
