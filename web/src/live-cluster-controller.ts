import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ClusterHealth, FileListing, NodeInfo, ShoalClient } from '../../shared/api-client.ts';
import { toShoalError, type ShoalError } from '../../shared/errors.ts';

/** The gateway's event types (server/gateway/events.ts); any of them may change what is shown. */
const EVENT_TYPES = ['ready', 'node.joined', 'node.left', 'node.stats', 'node.removed', 'file.added', 'file.removed', 'replica.lost', 'repair.progress', 'orphans.collected'];
/** Transfer rates fade and "last seen" ages without any event, so a slow poll runs beside the stream. */
const POLL_MS = 3000;

/** A snapshot, replaced whenever anything in it changes, so elements given it as a property update. */
export interface ClusterView {
  nodes: NodeInfo[];
  files: FileListing[];
  health: ClusterHealth | null;
  /** The event stream is connected. */
  live: boolean;
  loaded: boolean;
  error: ShoalError | null;
}

/**
 * The cluster as the gateway sees it, kept current from its event stream: each event triggers a
 * refetch of nodes, health and files. Events arrive in bursts (a busy node reports every second),
 * so refetches never overlap: events during one cause exactly one more.
 */
export class LiveClusterController implements ReactiveController {
  view: ClusterView = { nodes: [], files: [], health: null, live: false, loaded: false, error: null };
  readonly #host: ReactiveControllerHost;
  readonly #client: ShoalClient;
  #source: EventSource | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #started = false;
  #loading = false;
  #again = false;

  constructor(host: ReactiveControllerHost, client: ShoalClient) {
    this.#host = host;
    this.#client = client;
    host.addController(this);
  }

  /** Starts following the cluster; a tab that is only a storage node never needs to. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#open();
  }

  hostConnected(): void {
    if (this.#started) this.#open();
  }

  hostDisconnected(): void {
    this.#source?.close();
    this.#source = null;
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    this.#change({ live: false });
  }

  refresh(): void {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    this.#loading = true;
    void this.#load().finally(() => {
      this.#loading = false;
      if (this.#again) {
        this.#again = false;
        this.refresh();
      }
    });
  }

  #open(): void {
    if (this.#source) return;
    const source = new EventSource(this.#client.eventsUrl());
    this.#source = source;
    source.onopen = () => this.#change({ live: true });
    // The browser reconnects by itself; until then the page says it is not live.
    source.onerror = () => this.#change({ live: false });
    for (const type of EVENT_TYPES) source.addEventListener(type, () => this.refresh());
    this.#poll = setInterval(() => this.refresh(), POLL_MS);
    this.refresh();
  }

  #change(change: Partial<ClusterView>): void {
    this.view = { ...this.view, ...change };
    this.#host.requestUpdate();
  }

  async #load(): Promise<void> {
    try {
      const [nodes, health, files] = await Promise.all([this.#client.nodes(), this.#client.health(), this.#client.list()]);
      this.#change({ nodes, health, files, error: null, loaded: true });
    } catch (err) {
      this.#change({ error: toShoalError(err) });
    }
  }
}
