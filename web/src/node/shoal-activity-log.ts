import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { AgentActivity } from '../../../shared/node-agent.ts';
import { formatBytes } from '../common/format.ts';
import { baseStyles } from '../common/styles.ts';

/** The node's recent activity, newest first. */
@customElement('shoal-activity-log')
export class ShoalActivityLog extends LitElement {
  static override styles = [
    baseStyles,
    css`
      ol {
        max-height: 22rem;
        overflow-y: auto;
        font-size: 0.86rem;
      }
      li {
        display: grid;
        grid-template-columns: auto auto 1fr auto;
        grid-template-areas: 'time kind message bytes';
        align-items: baseline;
        gap: 0.6rem;
        padding: 0.35rem 0;
        border-bottom: 1px solid var(--border);
      }
      li:last-child {
        border-bottom: none;
      }
      time,
      .bytes {
        color: var(--muted);
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
      .kind {
        grid-area: kind;
        font-size: 0.72rem;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        min-width: 5.2em;
        color: var(--muted);
      }
      .put,
      .connect {
        color: var(--ok);
      }
      .get {
        color: var(--accent);
      }
      .error,
      .disconnect {
        color: var(--bad);
      }
      time {
        grid-area: time;
      }
      .message {
        grid-area: message;
        overflow-wrap: anywhere;
      }
      .bytes {
        grid-area: bytes;
        text-align: right;
      }
      @media (max-width: 560px) {
        li {
          grid-template-columns: auto 1fr auto;
          grid-template-areas: 'time kind bytes' 'message message message';
          row-gap: 0.1rem;
        }
      }
      .empty {
        color: var(--muted);
        padding: 0.5rem 0;
      }
    `,
  ];

  @property({ attribute: false }) entries: AgentActivity[] = [];

  override render() {
    if (this.entries.length === 0) return html`<p class="empty">Nothing yet.</p>`;
    return html`<ol>
      ${repeat(
        this.entries,
        (e) => e,
        (e) => html`<li>
          <time>${new Date(e.at).toLocaleTimeString()}</time>
          <span class="kind ${e.kind}">${e.kind}</span>
          <span class="message">${e.message}</span>
          <span class="bytes">${e.bytes === undefined ? '' : formatBytes(e.bytes)}</span>
        </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-activity-log': ShoalActivityLog;
  }
}
