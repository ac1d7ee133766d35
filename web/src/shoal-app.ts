import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { RepairStats, SessionInfo } from '../../shared/api-types.ts';
import { toShoalError } from '../../shared/errors.ts';
import { client, UNAUTHORIZED_EVENT } from './common/api.ts';
import { logoIcon } from './common/icons.ts';
import { interceptLinks, ROUTE_PATHS, routeFor, type Route } from './common/router.ts';
import './common/shoal-status.ts';
import { baseStyles } from './common/styles.ts';
import { LiveClusterController } from './dashboard/live-cluster-controller.ts';
import './dashboard/shoal-dashboard-page.ts';
import './dashboard/shoal-files-page.ts';
import './login/shoal-login-page.ts';
import './node/shoal-node-page.ts';
import { STATE_LABEL, type NodeStateDetail } from './node/shoal-node-page.ts';

const TITLES: Record<Route, string> = { dashboard: 'Cluster', files: 'Files', node: 'This node' };

/**
 * The app: a top bar and one page at a time. A page once shown stays in the document, hidden while
 * another is on screen, so a tab that is a node keeps serving and uploads keep going while its
 * user looks around. The cluster's live state is followed here, once, and handed to the pages.
 */
@customElement('shoal-app')
export class ShoalApp extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .bar {
        position: sticky;
        top: 0;
        z-index: 10;
        background: color-mix(in srgb, var(--surface) 88%, transparent);
        backdrop-filter: blur(8px);
        border-bottom: 1px solid var(--border);
      }
      .inner,
      main {
        max-width: 76rem;
        margin: 0 auto;
        padding: 0 1.25rem;
      }
      .inner {
        display: flex;
        align-items: center;
        gap: 1.5rem;
        min-height: 3.6rem;
        flex-wrap: wrap;
      }
      .brand {
        display: inline-flex;
        align-items: center;
        gap: 0.55rem;
        font-weight: 700;
        font-size: 1.1rem;
        color: var(--text);
        text-decoration: none;
        letter-spacing: -0.01em;
      }
      nav {
        display: flex;
        gap: 0.25rem;
        flex-wrap: wrap;
      }
      nav a {
        display: inline-flex;
        align-items: center;
        gap: 0.45rem;
        padding: 0.45rem 0.75rem;
        border-radius: 8px;
        color: var(--muted);
        font-weight: 550;
        text-decoration: none;
      }
      nav a:hover {
        color: var(--text);
        background: var(--surface-2);
      }
      nav a[aria-current='page'] {
        color: var(--accent);
        background: var(--accent-soft);
      }
      .who {
        margin-left: auto;
        display: inline-flex;
        align-items: center;
        gap: 0.75rem;
      }
      main {
        padding-top: 1.75rem;
        padding-bottom: 3rem;
      }
      @media (max-width: 560px) {
        .inner {
          gap: 0.5rem 0.75rem;
          padding: 0.5rem 1rem;
        }
        .brand span {
          display: none;
        }
        nav a {
          padding: 0.4rem 0.5rem;
        }
        main {
          padding: 1.25rem 1rem 2rem;
        }
      }
    `,
  ];

  @state() private route: Route = routeFor(location.pathname);
  @state() private visited: ReadonlySet<Route> = new Set([this.route]);
  @state() private node: NodeStateDetail | null = null;
  /**
   * Whether this browser is logged in to the gateway: the dashboard and files pages need it, the
   * node page does not (a tab joins with an invite). `/login` starts logged out.
   */
  @state() private login: 'unknown' | 'checking' | 'in' | 'out' = location.pathname === '/login' ? 'out' : 'unknown';
  @state() private session: SessionInfo | null = null;
  readonly #cluster = new LiveClusterController(this, client);
  #stopLinks: (() => void) | null = null;
  readonly #onPopState = () => this.#show(routeFor(location.pathname));
  readonly #onUnauthorized = () => this.#loggedOut();

  override connectedCallback(): void {
    super.connectedCallback();
    this.#stopLinks = interceptLinks((url) => this.#show(routeFor(url.pathname)));
    window.addEventListener('popstate', this.#onPopState);
    window.addEventListener(UNAUTHORIZED_EVENT, this.#onUnauthorized);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopLinks?.();
    window.removeEventListener('popstate', this.#onPopState);
    window.removeEventListener(UNAUTHORIZED_EVENT, this.#onUnauthorized);
  }

  protected override willUpdate(): void {
    if (this.route !== 'node' && this.login === 'unknown') void this.#checkLogin();
    if (this.route !== 'node' && this.login === 'in') this.#cluster.start();
    document.title = `${this.#needsLogin() ? 'Log in' : TITLES[this.route]} · Shoal`;
  }

  override render() {
    const { route, visited } = this;
    const view = this.#cluster.view;
    return html`
      <header class="bar">
        <div class="inner">
          <a class="brand" href="/" aria-label="Shoal">${logoIcon}<span>Shoal</span></a>
          <nav aria-label="pages">
            ${this.#link('dashboard', 'Dashboard')} ${this.#link('files', 'Files')}
            ${this.#link('node', this.node ? html`This node <shoal-status status=${this.node.state} label=${STATE_LABEL[this.node.state]}></shoal-status>` : 'This node')}
          </nav>
          ${this.login === 'in' && this.session
            ? html`<span class="who"
                ><span class="muted" id="session">${this.session.name} · ${this.session.role}</span
                ><button class="small" @click=${() => this.#logOut()}>Log out</button></span
              >`
            : nothing}
        </div>
      </header>
      <main>
        ${this.#needsLogin() && this.login === 'out'
          ? html`<shoal-login-page @logged-in=${(e: CustomEvent<SessionInfo>) => this.#loggedIn(e.detail)}></shoal-login-page>`
          : nothing}
        ${visited.has('dashboard') && this.login === 'in'
          ? html`<shoal-dashboard-page
              ?hidden=${route !== 'dashboard'}
              .cluster=${view}
              @cluster-changed=${() => this.#cluster.refresh()}
              @repair-stats=${(e: CustomEvent<RepairStats>) => this.#cluster.applyRepair(e.detail)}
            ></shoal-dashboard-page>`
          : nothing}
        ${visited.has('files') && this.login === 'in'
          ? html`<shoal-files-page ?hidden=${route !== 'files'} .cluster=${view} @cluster-changed=${() => this.#cluster.refresh()}></shoal-files-page>`
          : nothing}
        ${visited.has('node') ? html`<shoal-node-page ?hidden=${route !== 'node'} @node-state=${(e: CustomEvent<NodeStateDetail>) => (this.node = e.detail)}></shoal-node-page>` : nothing}
      </main>
    `;
  }

  #link(route: Route, label: unknown) {
    return html`<a href=${ROUTE_PATHS[route]} aria-current=${this.route === route ? 'page' : 'false'}>${label}</a>`;
  }

  #needsLogin(): boolean {
    return this.route !== 'node' && this.login !== 'in';
  }

  async #checkLogin(): Promise<void> {
    this.login = 'checking';
    try {
      this.session = await client.session();
      this.login = 'in';
    } catch (err) {
      // Only the gateway saying who may not comes to the login page; an unreachable one shows on the pages.
      this.login = toShoalError(err).code === 'UNAUTHORIZED' ? 'out' : 'in';
    }
  }

  #loggedIn(session: SessionInfo): void {
    this.session = session;
    if (location.pathname === '/login') history.replaceState(null, '', '/');
    this.route = routeFor(location.pathname);
    this.login = 'in';
  }

  #loggedOut(): void {
    this.#cluster.stop();
    this.session = null;
    this.login = 'out';
  }

  async #logOut(): Promise<void> {
    await client.logout().catch(() => {});
    this.#loggedOut();
  }

  #show(route: Route): void {
    this.route = route;
    if (!this.visited.has(route)) this.visited = new Set([...this.visited, route]);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-app': ShoalApp;
  }
}
