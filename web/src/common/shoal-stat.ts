import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

/** A headline number with its label; whatever is slotted (a bar, a breakdown) goes underneath. */
@customElement('shoal-stat')
export class ShoalStat extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .card {
        height: 100%;
      }
      .label {
        font-size: 0.8rem;
        font-weight: 600;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--muted);
      }
      .value {
        font-size: 1.6rem;
        font-weight: 650;
        margin: 0.15rem 0 0.35rem;
        font-variant-numeric: tabular-nums;
        overflow-wrap: anywhere;
      }
      :host([mono]) .value {
        font-family: var(--mono);
        font-size: 1.3rem;
        line-height: 2.1rem;
      }
      :host([tone='warn']) .value {
        color: var(--warn);
      }
      :host([tone='bad']) .value {
        color: var(--bad);
      }
      .value ::slotted(*) {
        color: inherit;
        font-size: inherit;
      }
      ::slotted(:not([slot])) {
        color: var(--muted);
        font-size: 0.88rem;
      }
    `,
  ];

  @property() label = '';
  @property() value = '';
  @property({ reflect: true }) tone: 'normal' | 'warn' | 'bad' = 'normal';
  /** Shows the value in monospace, for identifiers. */
  @property({ type: Boolean, reflect: true }) mono = false;

  override render() {
    return html`<div class="card">
      <div class="label">${this.label}</div>
      <div class="value"><slot name="value">${this.value}</slot></div>
      <slot></slot>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-stat': ShoalStat;
  }
}
