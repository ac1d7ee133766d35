import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { baseStyles } from '../styles.ts';

type Tone = 'ok' | 'warn' | 'bad' | 'idle';

/** One vocabulary for node states, agent states and file health. */
const TONES: Record<string, Tone> = {
  online: 'ok',
  ok: 'ok',
  draining: 'warn',
  degraded: 'warn',
  connecting: 'warn',
  waiting: 'warn',
  starting: 'warn',
  unavailable: 'bad',
  rejected: 'bad',
  unsupported: 'bad',
  offline: 'idle',
  stopped: 'idle',
};

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
    `,
  ];

  @property() status = '';
  /** Shown instead of the status word. */
  @property() label = '';

  override render() {
    return html`<span class=${TONES[this.status] ?? 'idle'}>${this.label || this.status}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-status': ShoalStatus;
  }
}
