import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ShoalClient } from '../../../shared/api-client.ts';
import { SHOAL_EVENT_TYPES, type ClusterHealth, type ClusterThroughput, type NodeInfo, type RepairProgress, type RepairStats, type ShoalEvent } from '../../../shared/api-types.ts';
import { toShoalError, type ShoalError } from '../../../shared/errors.ts';

/** Transfer rates fade and "last seen" ages without any event, so a slow poll runs beside the stream. */
const POLL_MS = 3000;
/**
 * The least time between two refetches. A repair or a busy cluster sends several events a second,
 * and listing nodes makes the gateway walk every chunk, so events only ever mark the view stale.
 */
const REFETCH_GAP_MS = 1000;
/** repair.progress carries its own numbers; they are shown at most this often. */
const REPAIR_RENDER_MS = 250;

/** A snapshot, replaced whenever anything in it changes, so elements given it as a property update. */
export interface ClusterView {
  nodes: NodeInfo[];
  health: ClusterHealth | null;
  /** Bytes the file API read and wrote over the last minutes. */
  throughput: ClusterThroughput | null;
  /** The event stream is connected. */
  live: boolean;
  loaded: boolean;
  error: ShoalError | null;
  /** When the figures shown were fetched; null before the first answer. */
  asOf: number | null;
}

/**
 * The figures are not current: the gateway did not answer the last fetch. The poll goes on while
 * the event stream is down, so a stream cut by a proxy alone leaves figures at most POLL_MS old.
 * Pages then say "as of" instead of showing them as live.
 */
export function isStale(view: ClusterView): boolean {
  return view.asOf !== null && view.error !== null;
}

/**
 * The cluster as the gateway sees it, kept current from its event stream: each event triggers a
 * refetch of nodes and health. Files are not among them: there may be millions, and the files
 * page fetches the one page it shows. Events arrive in bursts (a busy node reports every second),
 * so refetches never overlap, events during one cause exactly one more, and they start at most
 * once per REFETCH_GAP_MS. Repair progress is patched into the health from the event itself, so
 * the repair numbers move live without a refetch for each.
 */
export class LiveClusterController implements ReactiveController {
  view: ClusterView = { nodes: [], health: null, throughput: null, live: false, loaded: false, error: null, asOf: null };
  readonly #host: ReactiveControllerHost;
  readonly #client: ShoalClient;
  #source: EventSource | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #started = false;
  #loading = false;
  #again = false;
  #lastLoadAt = 0;
  #refetchTimer: ReturnType<typeof setTimeout> | null = null;
  /** The newest repair numbers from the stream, with when they came, outranking an older fetch. */
  #repair: { at: number; progress: RepairProgress } | null = null;
  #repairTimer: ReturnType<typeof setTimeout> | null = null;
  #repairShownAt = 0;
  /** When the fetch that produced view.health started. */
  #healthFetchedAt = 0;

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

  /** Stops following, e.g. when the login has ended; start() follows again. */
  stop(): void {
    this.#started = false;
    this.hostDisconnected();
  }

  hostConnected(): void {
    if (this.#started) this.#open();
  }

  hostDisconnected(): void {
    this.#source?.close();
    this.#source = null;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#refetchTimer) clearTimeout(this.#refetchTimer);
    if (this.#repairTimer) clearTimeout(this.#repairTimer);
    this.#poll = this.#refetchTimer = this.#repairTimer = null;
    this.#change({ live: false });
  }

  refresh(): void {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    // One already waiting for its turn will fetch this change too.
    if (this.#refetchTimer) return;
    const wait = this.#lastLoadAt + REFETCH_GAP_MS - Date.now();
    if (wait > 0) {
      this.#refetchTimer = setTimeout(() => {
        this.#refetchTimer = null;
        this.refresh();
      }, wait);
      return;
    }
    this.#loading = true;
    this.#lastLoadAt = Date.now();
    void this.#load().finally(() => {
      this.#loading = false;
      if (this.#again) {
        this.#again = false;
        this.refresh();
      }
    });
  }

  /** Repair numbers known before the stream reports them, such as the answer to a rebalance request. */
  applyRepair(stats: RepairStats): void {
    const health = this.view.health;
    if (health) this.#patchRepair({ ...stats, underReplicatedChunks: health.underReplicatedChunks });
  }

  /** Any event may change what is shown; repair progress also carries numbers to show at once. */
  #onEvent(event: ShoalEvent): void {
    if (event.type === 'repair.progress') {
      // The event also names its type; only the numbers belong in the health.
      const { queued, active, done, failed, lastFailure, removed, rebalancing, underReplicatedChunks } = event;
      this.#patchRepair({ queued, active, done, failed, lastFailure, removed, rebalancing, underReplicatedChunks });
    }
    // Chunk counts per node, file health and the rest follow, at the refetch pace.
    this.refresh();
  }

  /** Keeps the newest numbers and shows them at most every REPAIR_RENDER_MS, the last always. */
  #patchRepair(progress: RepairProgress): void {
    this.#repair = { at: Date.now(), progress };
    if (this.#repairTimer) return;
    const show = () => {
      this.#repairTimer = null;
      this.#repairShownAt = Date.now();
      if (this.view.health) this.#change({ health: this.#withRepair(this.view.health, this.#healthFetchedAt) });
    };
    const wait = this.#repairShownAt + REPAIR_RENDER_MS - Date.now();
    if (wait > 0) this.#repairTimer = setTimeout(show, wait);
    else show();
  }

  /** The health with the streamed repair numbers laid over it, if they are newer than `fetchedAt`. */
  #withRepair(health: ClusterHealth, fetchedAt: number): ClusterHealth {
    if (!this.#repair || this.#repair.at < fetchedAt) return health;
    const { underReplicatedChunks, ...repair } = this.#repair.progress;
    return { ...health, underReplicatedChunks, repair: { ...health.repair, ...repair } };
  }

  #open(): void {
    if (this.#source) return;
    const source = new EventSource(this.#client.eventsUrl());
    this.#source = source;
    source.onopen = () => this.#change({ live: true });
    // The browser reconnects by itself; until then the page says it is not live.
    source.onerror = () => this.#change({ live: false });
    // Sent once the gateway has subscribed this stream, on each reconnect too: what was missed is fetched.
    source.addEventListener('ready', () => this.refresh());
    for (const type of SHOAL_EVENT_TYPES) source.addEventListener(type, (event) => this.#onEvent(JSON.parse(event.data) as ShoalEvent));
    this.#poll = setInterval(() => this.refresh(), POLL_MS);
    this.refresh();
  }

  #change(change: Partial<ClusterView>): void {
    this.view = { ...this.view, ...change };
    this.#host.requestUpdate();
  }

  async #load(): Promise<void> {
    const startedAt = Date.now();
    try {
      const [nodes, health, throughput] = await Promise.all([this.#client.nodes(), this.#client.health(), this.#client.throughput()]);
      this.#healthFetchedAt = startedAt;
      this.#change({ nodes, health: this.#withRepair(health, startedAt), throughput, error: null, loaded: true, asOf: startedAt });
    } catch (err) {
      this.#change({ error: toShoalError(err) });
    }
  }
}
