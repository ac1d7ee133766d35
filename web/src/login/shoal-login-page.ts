import { css, html, LitElement } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { SessionInfo } from '../../../shared/api-types.ts';
import { client } from '../common/api.ts';
import { describeError } from '../common/error-text.ts';
import { baseStyles } from '../common/styles.ts';

/**
 * Logs the browser in. The link the gateway prints carries a one-time code in its fragment (which
 * no request sends and no server logs), traded here for a session cookie; or a person pastes an API
 * token. Either way the page never stores a secret: the gateway sets an HttpOnly cookie.
 * Fires `logged-in` with the session.
 */
@customElement('shoal-login-page')
export class ShoalLoginPage extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .card {
        max-width: 34rem;
        margin: 3rem auto;
        display: grid;
        gap: 1rem;
      }
      form {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
      }
      input {
        flex: 1 1 18rem;
        font: inherit;
        font-family: var(--mono);
        padding: 0.5rem 0.6rem;
        border: 1px solid var(--border);
        border-radius: 8px;
        background: var(--surface-2);
        color: var(--text);
      }
      .error {
        color: var(--bad);
      }
    `,
  ];

  @state() private busy = false;
  @state() private error = '';

  override connectedCallback(): void {
    super.connectedCallback();
    const code = new URLSearchParams(location.hash.slice(1)).get('code');
    if (code) {
      // The code is spent by this request whatever it answers: it leaves the address at once.
      history.replaceState(null, '', location.pathname + location.search);
      void this.#login({ code });
    }
  }

  override render() {
    return html`<section class="card" aria-labelledby="login-title">
      <h1 id="login-title">Log in to Shoal</h1>
      <p class="muted">
        Open the link <code>shoal gateway</code> or <code>npm start</code> printed (<code>shoal login-link</code> makes another), or paste an API token
        (<code>shoal token create --role read|write|admin</code>).
      </p>
      <form @submit=${this.#submit}>
        <input name="token" type="password" autocomplete="off" placeholder="shoal_…" aria-label="API token" required />
        <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Logging in…' : 'Log in'}</button>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
    </section>`;
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    void this.#login({ token: input.value.trim() });
  }

  async #login(credential: { code: string } | { token: string }): Promise<void> {
    this.busy = true;
    this.error = '';
    try {
      const session = await client.login(credential);
      this.dispatchEvent(new CustomEvent<SessionInfo>('logged-in', { detail: session, bubbles: true, composed: true }));
    } catch (err) {
      const text = describeError(err);
      this.error = `${text.title} ${text.message}`;
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-login-page': ShoalLoginPage;
  }
}
