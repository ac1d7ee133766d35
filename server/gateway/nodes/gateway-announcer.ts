import type { GatewayAddress } from '../../../shared/protocol.ts';
import { MAX_GATEWAYS } from '../../../shared/protocol.ts';
import type { NodeRegistry } from './node-registry.ts';

/** The slice of the cluster's gateway directory (one row per gateway, with a heartbeat) the announcer reads. */
export interface GatewayListing {
  list(): Promise<ReadonlyArray<{ id: string; url: string; status: string }>>;
}

/**
 * Tells nodes that link to every gateway where the cluster's gateways are: in their welcome, and
 * again to every such node whenever the gateways online change. The list is read from the
 * directory every interval; a failed read keeps the last one, since the nodes keep their links anyway.
 */
export class GatewayAnnouncer {
  readonly selfId: string;
  readonly #registry: NodeRegistry;
  readonly #listing: GatewayListing;
  readonly #intervalMs: number;
  #self: GatewayAddress | null = null;
  #current: GatewayAddress[] = [];
  #origins = new Set<string>();
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(selfId: string, registry: NodeRegistry, listing: GatewayListing, intervalMs: number) {
    this.selfId = selfId;
    this.#registry = registry;
    this.#listing = listing;
    this.#intervalMs = intervalMs;
  }

  /** The gateways online now, this one first. */
  current(): GatewayAddress[] {
    return this.#current;
  }

  /** The host (name and port) of this gateway's URL as the cluster knows it: what a node that dialed it through a proxy names. */
  ownHost(): string | undefined {
    return this.#self ? new URL(this.#self.url).host : undefined;
  }

  /** The node sockets of the other gateways online, as CSP sources: `ws://host:port` or `wss://…`. */
  peerSockets(): string[] {
    return this.#current.slice(1).flatMap(({ url }) => socketSource(url));
  }

  /**
   * Whether `host` is what the directory calls another gateway, online or not, read afresh: a
   * stranger listed there that relays a node here names its own host in the HTTP request too, so
   * only this tells it from a name of this gateway the node was given. Unsure, it is.
   */
  async namesAnother(host: string): Promise<boolean> {
    const rows = await this.#listing.list().catch(() => null);
    if (rows === null) return true;
    return rows.some((row) => row.id !== this.selfId && hostOf(row.url) === host);
  }

  /** Whether `origin` is the origin of a gateway of the cluster, whose pages (tabs) may link here too. */
  servesPagesOf(origin: string): boolean {
    return this.#origins.has(origin);
  }

  /** Once this gateway listens, under the URL the directory has for it. */
  async start(self: GatewayAddress): Promise<void> {
    this.#self = self;
    this.#current = [self];
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads the directory, and tells the nodes when the gateways online changed. */
  async refresh(): Promise<void> {
    const self = this.#self;
    if (!self) return;
    const rows = await this.#listing.list().catch(() => null);
    if (rows === null) return;
    const others = rows.filter((row) => row.status === 'online' && row.id !== self.id).map(({ id, url }) => ({ id, url }));
    const next = [self, ...others].slice(0, MAX_GATEWAYS);
    this.#origins = new Set(next.flatMap(({ url }) => originOf(url)));
    if (JSON.stringify(next) === JSON.stringify(this.#current)) return;
    this.#current = next;
    for (const link of this.#registry.links()) if (link.linksEveryGateway) link.send({ type: 'gateways', gateways: next });
  }
}

function socketSource(url: string): string[] {
  try {
    const { host, protocol } = new URL(url);
    // Only characters a CSP source may hold: a URL from the directory must not add directives.
    if (!/^[a-z0-9.\-[\]:]+$/i.test(host)) return [];
    return protocol === 'https:' || protocol === 'wss:' ? [`wss://${host}`] : protocol === 'http:' || protocol === 'ws:' ? [`ws://${host}`] : [];
  } catch {
    return [];
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function originOf(url: string): string[] {
  try {
    const { origin, protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? [origin] : [];
  } catch {
    return [];
  }
}
