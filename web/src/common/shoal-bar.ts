import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

export type BarTone = 'usage' | 'progress' | 'done' | 'failed';

/** A horizontal meter. Usage bars turn amber past 75 % and red past 90 %, as a full disk should. */
@customElement('shoal-bar')
export class ShoalBar extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .track {
        height: 8px;
        border-radius: 999px;
        background: var(--track);
        overflow: hidden;
      }
      .fill {
        height: 100%;
        border-radius: inherit;
        background: var(--accent);
        transition: width 0.3s ease;
      }
      .fill.warn {
        background: var(--warn);
      }
      .fill.bad,
      .fill.failed {
        background: var(--bad);
      }
      .fill.done {
        background: var(--ok);
      }
    `,
  ];

  /** 0 to 1. */
  @property({ type: Number }) value = 0;
  @property() tone: BarTone = 'usage';
  @property() label = '';

  override render() {
    const value = Math.min(1, Math.max(0, this.value));
    const level = this.tone !== 'usage' ? this.tone : value >= 0.9 ? 'bad' : value >= 0.75 ? 'warn' : '';
    return html`<div class="track" role="progressbar" aria-label=${this.label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(value * 100)}>
      <div class="fill ${level}" style="width:${(value * 100).toFixed(1)}%"></div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-bar': ShoalBar;
  }
}
