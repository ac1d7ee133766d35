import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { CreatedInvite, InviteInfo } from '../../../shared/api-types.ts';
import { inviteStatus, inviteUses } from '../../../shared/invite-status.ts';
import { client } from '../common/api.ts';
import { describeError, type ErrorText } from '../common/error-text.ts';
import { timeAgo } from '../common/format.ts';
import '../common/shoal-confirm-button.ts';
import '../common/shoal-status.ts';
import { baseStyles } from '../common/styles.ts';

const HOUR = 3_600_000;

/** The lifetimes offered for an invite: long enough to walk to the other browser, or for good. */
const EXPIRIES = {
  '1h': { label: '1 hour', ms: HOUR },
  '1d': { label: '1 day', ms: 24 * HOUR },
  never: { label: 'never', ms: undefined },
} as const;
type Expiry = keyof typeof EXPIRIES;

/**
 * Invites for other browsers: make one (a lifetime, optionally a number of uses), hand on its link
 * with a copy button, and see every invite with its uses and whether it still works, with Revoke.
 * The link carries the invite's secret, which the gateway shows once, so it is shown only right after
 * creation. The list is read again whenever the cluster's node count changes, since a tab joining
 * is what uses an invite up.
 */
@customElement('shoal-invites-panel')
export class ShoalInvitesPanel extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .card {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr));
        gap: 1.25rem 2rem;
      }
      .intro {
        color: var(--muted);
        font-size: 0.9rem;
        margin: 0.2rem 0 0.9rem;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        align-items: end;
        gap: 0.75rem;
      }
      label {
        display: grid;
        gap: 0.2rem;
        font-size: 0.82rem;
        color: var(--muted);
      }
      form input[type='text'] {
        width: 12rem;
      }
      form input[type='number'] {
        width: 6rem;
      }
      .created {
        margin-top: 1rem;
        padding: 0.8rem;
        border-radius: 8px;
        background: var(--accent-soft);
        display: grid;
        gap: 0.4rem;
      }
      .link-row {
        display: flex;
        gap: 0.5rem;
      }
      .link-row input {
        flex: 1;
        min-width: 0;
        font-family: var(--mono);
        font-size: 0.82rem;
      }
      .created p {
        font-size: 0.82rem;
        color: var(--muted);
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto auto;
        align-items: center;
        gap: 0.4rem 0.75rem;
        padding: 0.6rem 0;
        border-bottom: 1px solid var(--border);
      }
      li:last-child {
        border-bottom: none;
      }
      .name {
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .meta {
        color: var(--muted);
        font-size: 0.82rem;
      }
      .banner {
        grid-column: 1 / -1;
      }
    `,
  ];

  /** How many nodes the cluster has; when it changes, a tab may have used an invite. */
  @property({ type: Number }) nodeCount = 0;
  @state() private invites: InviteInfo[] = [];
  @state() private created: CreatedInvite | null = null;
  @state() private creating = false;
  @state() private copied = false;
  @state() private revoking: ReadonlySet<string> = new Set();
  @state() private problem: ErrorText | null = null;
  @query('#invite-url') private urlField!: HTMLInputElement;

  protected override updated(changed: PropertyValues<this>): void {
    // The first render counts as a change too, so this also makes the first read.
    if (changed.has('nodeCount')) void this.#load();
  }

  override render() {
    return html`<section class="card">
      ${this.problem ? html`<p class="banner" role="alert">${this.problem.title}<small>${this.problem.detail}</small></p>` : ''}
      <div>
        <h2>Invite a browser</h2>
        <p class="intro">A browser becomes a storage node by opening an invite link. Make one here and open it in the browser that is to join.</p>
        <form @submit=${this.#create}>
          <label>Label <input type="text" name="label" maxlength="100" placeholder="e.g. kitchen laptop" /></label>
          <label>
            Expires
            <select name="expiry">
              ${Object.entries(EXPIRIES).map(([value, { label }]) => html`<option value=${value}>${label}</option>`)}
            </select>
          </label>
          <label>Uses <input type="number" name="uses" min="1" step="1" placeholder="any" /></label>
          <button class="primary" type="submit" id="create-invite" ?disabled=${this.creating}>${this.creating ? 'Creating…' : 'Create invite'}</button>
        </form>
        ${this.created ? this.#renderCreated(this.created) : ''}
      </div>
      <div>
        <h2>Invites</h2>
        ${this.invites.length === 0 ? html`<p class="intro">No invites yet.</p>` : this.#renderList()}
      </div>
    </section>`;
  }

  #renderCreated({ invite, url }: CreatedInvite) {
    return html`<div class="created" id="created-invite" data-id=${invite.id}>
      <label for="invite-url">Link for ${invite.label}</label>
      <div class="link-row">
        <input id="invite-url" type="text" readonly .value=${url} @focus=${() => this.urlField.select()} />
        <button class="small" id="copy-invite" aria-label="Copy invite link" @click=${() => this.#copy(url)}>${this.copied ? 'Copied' : 'Copy'}</button>
      </div>
      <p>Shown only now: the link holds the invite's secret. Whoever opens it can join until it expires, is used up or is revoked.</p>
    </div>`;
  }

  #renderList() {
    const now = Date.now();
    return html`<ul>
      ${repeat(
        this.invites,
        (i) => i.id,
        (i) => {
          const status = inviteStatus(i, now);
          return html`<li data-id=${i.id} data-status=${status}>
            <div>
              <div class="name">${i.label} <span class="mono muted">${i.id}</span></div>
              <div class="meta">
                ${inviteUses(i)} · ${i.expiresAt === null ? 'never expires' : `${status === 'expired' ? 'expired' : 'expires'} ${new Date(i.expiresAt).toLocaleString()}`} · made
                ${timeAgo(i.createdAt, now)}
              </div>
            </div>
            <shoal-status status=${status}></shoal-status>
            ${status === 'active'
              ? html`<shoal-confirm-button
                  label="Revoke"
                  question="Really revoke?"
                  busy-label="Revoking…"
                  subject=${`invite ${i.label} (${i.id})`}
                  ?busy=${this.revoking.has(i.id)}
                  @confirm=${() => this.#revoke(i.id)}
                ></shoal-confirm-button>`
              : html`<span></span>`}
          </li>`;
        },
      )}
    </ul>`;
  }

  async #load(): Promise<void> {
    try {
      // Newest first: the one just made, or just used, is on top.
      this.invites = (await client.invites()).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      this.problem = null;
    } catch (err) {
      this.problem = describeError(err);
    }
  }

  async #create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const fields = new FormData(form);
    const label = String(fields.get('label') ?? '').trim();
    const uses = String(fields.get('uses') ?? '');
    const expiry = String(fields.get('expiry')) as Expiry;
    this.creating = true;
    try {
      this.created = await client.createInvite({
        label: label || undefined,
        expiresInMs: EXPIRIES[expiry].ms,
        maxUses: uses === '' ? undefined : Number(uses),
      });
      this.copied = false;
      form.reset();
      await this.#load();
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.creating = false;
    }
  }

  async #copy(url: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(url);
      this.copied = true;
    } catch {
      // Without clipboard access the link is left selected, for the keyboard's copy.
      this.urlField.select();
    }
  }

  async #revoke(id: string): Promise<void> {
    this.revoking = new Set([...this.revoking, id]);
    try {
      await client.revokeInvite(id);
    } catch (err) {
      this.problem = describeError(err);
    } finally {
      this.revoking = new Set([...this.revoking].filter((other) => other !== id));
      await this.#load();
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-invites-panel': ShoalInvitesPanel;
  }
}
