/**
 * Which browser requests the gateway answers as its own. A page's Origin alone is not enough: after
 * DNS rebinding a hostile page's Origin and Host both name the attacker's domain while its requests
 * reach this gateway. So the Host must be a name the gateway serves (loopback names, its --host,
 * and the hosts it is told about), and the Origin that Host or a configured origin.
 */
export class BrowserOrigins {
  readonly #hosts: Set<string>;
  readonly #origins: Set<string>;

  constructor(options: { host: string; allowedHosts: readonly string[]; allowedOrigins: readonly string[] }) {
    const names = ['localhost', '127.0.0.1', '[::1]', ...options.allowedHosts];
    if (!['0.0.0.0', '::'].includes(options.host)) names.push(options.host.includes(':') ? `[${options.host}]` : options.host);
    this.#hosts = new Set(names.map((name) => name.toLowerCase()));
    this.#origins = new Set(options.allowedOrigins);
  }

  /** A Host header (name and port) that names this gateway. */
  servesHost(host: string | undefined): boolean {
    if (host === undefined) return false;
    try {
      return this.#hosts.has(new URL(`http://${host}`).hostname.toLowerCase());
    } catch {
      return false;
    }
  }

  /** A browser request from one of the gateway's own pages, or from a configured origin. */
  allows(origin: string, host: string | undefined): boolean {
    if (!this.servesHost(host)) return false;
    if (this.#origins.has(origin)) return true;
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }
}
