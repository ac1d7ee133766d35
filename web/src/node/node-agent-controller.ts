import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import { NodeAgent, type AgentActivity, type AgentState, type SocketConstructor } from '../../../shared/node-agent.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import { IdbChunkStore } from './idb-chunk-store.ts';
import {
  adoptIdentity,
  createIdentity,
  forgetIdentity,
  lockLeftBehind,
  leftBehindIdentities,
  resumeIdentity,
  saveIdentity,
  type IdentityLease,
  type NodeIdentity,
} from './node-identity.ts';
import { reloadWhenGatewayBlocked } from './policy-reload.ts';
import { clampCapacity, defaultCapacity, requestPersistence, storageBudget, type StorageBudget } from './storage-budget.ts';

/**
 * 'uninvited': the tab has no node of its own, nor an invite to join with, so it serves nothing.
 * 'choosing': it has an invite, but closed tabs left stores holding chunks here: the page offers to
 * reuse one (adopt) before making a new node (startFresh).
 */
export type NodeTabState = AgentState | 'starting' | 'unsupported' | 'uninvited' | 'choosing';

export interface NodeTabStats {
  usedBytes: number;
  chunkCount: number;
  bytesIn: number;
  bytesOut: number;
}

export interface LeftBehindStore {
  identity: NodeIdentity;
  usedBytes: number;
  chunkCount: number;
}

export interface NodeTabOptions {
  /** The gateway to serve, and to tell when a store is deleted for good. */
  client: ShoalClient;
  /** Take over the fullest store a closed tab left behind, rather than start empty. */
  adopt: boolean;
  /** Make a new node with the invite without offering the stores closed tabs left (?fresh=1). */
  fresh?: boolean;
  /** Capacity for a new node; the page's own choice when absent. */
  capacityBytes?: number;
  /** An invite's token: what lets a new node into the cluster. Without one only a known node serves. */
  invite?: string;
  /** Called once the cluster has let this tab's node in with the invite, which it needs no more. */
  onAdmitted?: () => void;
}

const LOG_LENGTH = 100;
/**
 * A busy node logs a put or a get per chunk: the page redraws its log at most this often, as
 * drawing it for every chunk cost a tab more CPU than storing the chunk (measured: ~5 of ~20
 * CPU-seconds per GiB taken in).
 */
const LOG_REDRAW_MS = 250;
/** How this tab came by its node, in the words the page uses ("Reuse" a closed tab's store). */
const HOW_WORDS: Record<IdentityLease['how'], string> = { new: 'created', resumed: 'resumed', adopted: 'reused' };
const NO_STATS: NodeTabStats = { usedBytes: 0, chunkCount: 0, bytesIn: 0, bytesOut: 0 };

/**
 * Makes the page's tab a storage node for as long as the element is in the document: the shared
 * NodeAgent over an IndexedDB store, under an identity this tab holds a Web Lock on. Everything
 * the page shows (state, counters, activity, stores left by closed tabs) is read from here.
 */
export class NodeAgentController implements ReactiveController {
  state: NodeTabState = 'starting';
  reason = '';
  /** The gateway's close code (CLOSE) while it refuses this node. */
  refusal: number | null = null;
  identity: NodeIdentity | null = null;
  how: IdentityLease['how'] | null = null;
  stats: NodeTabStats = NO_STATS;
  activity: AgentActivity[] = [];
  leftBehind: LeftBehindStore[] = [];
  budget: StorageBudget | null = null;
  readonly #host: ReactiveControllerHost;
  readonly #options: NodeTabOptions;
  #lease: IdentityLease | null = null;
  #agent: NodeAgent | null = null;
  #store: IdbChunkStore | null = null;
  #unsubscribe: Array<() => void> = [];
  #invite: string | undefined;
  /** The cluster knows this identity: it is kept in localStorage, for reloads and adoption. */
  #admitted = false;
  /** Bumped on disconnect, so a start still under way when the element leaves gives up. */
  #generation = 0;
  #redrawTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(host: ReactiveControllerHost, options: NodeTabOptions) {
    this.#host = host;
    this.#options = options;
    this.#invite = options.invite;
    host.addController(this);
  }

  /** The cluster knows this tab's node (it was resumed, adopted, or let in with the invite). */
  get admitted(): boolean {
    return this.#admitted;
  }

  /** The gateways this tab's node knows, and whether each link is up: it links to every gateway of the cluster. */
  get gateways(): ReturnType<NodeAgent['gateways']> {
    return this.#agent?.gateways() ?? [];
  }

  /** A new node can be made here: the page holds an invite the gateway has not turned down. */
  get canStartFresh(): boolean {
    return this.#invite !== undefined && this.refusal !== CLOSE.NOT_ADMITTED;
  }

  hostConnected(): void {
    const generation = ++this.#generation;
    this.#begin(generation).catch((err: unknown) => this.#fail(toShoalError(err).message));
  }

  hostDisconnected(): void {
    this.#generation++;
    if (this.#redrawTimer) clearTimeout(this.#redrawTimer);
    this.#redrawTimer = null;
    this.#stopAgent();
    this.#lease?.release();
    this.#lease = null;
  }

  pause(): void {
    this.#agent?.stop();
  }

  resume(): void {
    this.#agent?.start();
  }

  /** Reconnects with the new capacity: the gateway learns a node's capacity when it says hello. */
  async setCapacity(bytes: number): Promise<void> {
    if (!this.identity || !this.budget) return;
    const capacityBytes = clampCapacity(bytes, this.budget, this.stats.usedBytes);
    this.identity = { ...this.identity, capacityBytes };
    if (this.#admitted) saveIdentity(this.identity);
    this.#log('connect', `capacity set to ${capacityBytes} bytes; reconnecting`);
    await this.#startAgent(this.#generation);
  }

  /** Becomes the node a closed tab left behind. A node of ours that holds nothing is not worth keeping. */
  async adopt(id: string): Promise<void> {
    const generation = this.#generation;
    const next = await adoptIdentity(id);
    if (!next) return this.#refreshLeftBehind();
    const previous = this.#lease;
    const wasEmpty = this.stats.chunkCount === 0;
    this.#stopAgent();
    previous?.release();
    await this.#take(next, generation);
    // Only tidiness is lost if this fails: the empty store stays on offer for adoption.
    if (previous && wasEmpty) await this.forget(previous.identity.id).catch(() => {});
  }

  /** Starts over as a brand-new node with the page's invite, e.g. after the gateway refused this identity. */
  async startFresh(): Promise<void> {
    const generation = this.#generation;
    this.#stopAgent();
    this.#lease?.release();
    await this.#take(await createIdentity(this.identity?.capacityBytes ?? this.#options.capacityBytes ?? defaultCapacity(this.budget!)), generation);
  }

  /**
   * Deletes a closed tab's store for good, once the gateway has agreed to forget the node: it
   * refuses (NODE_NOT_SAFE_TO_REMOVE) while the store holds chunks the cluster is short of.
   */
  async forget(id: string): Promise<void> {
    const release = await lockLeftBehind(id);
    if (!release) throw new ShoalError('CONFLICT', `node ${id} is in use by another tab`);
    try {
      await this.#options.client.removeNode(id).catch((err: unknown) => {
        if (toShoalError(err).code !== 'NODE_NOT_FOUND') throw err;
      });
      await IdbChunkStore.destroy(id);
      forgetIdentity(id);
    } finally {
      release();
      await this.#refreshLeftBehind();
    }
  }

  async #begin(generation: number): Promise<void> {
    if (!window.isSecureContext || !navigator.locks || !crypto.subtle) {
      this.#fail('A tab can only be a storage node on a secure page: open the gateway over https, or as localhost / 127.0.0.1.', 'unsupported');
      return;
    }
    await requestPersistence();
    this.budget = await storageBudget();
    let lease = await resumeIdentity();
    if (!lease && this.#options.adopt) {
      for (const store of await this.#leftBehindStores()) {
        lease = await adoptIdentity(store.identity.id);
        if (lease) break;
      }
    }
    if (!lease && this.#invite === undefined) {
      // Stores left by closed tabs belong to known nodes: they may still be adopted without an invite.
      await this.#refreshLeftBehind();
      this.#fail('this tab has no node and no invite to join with', 'uninvited');
      return;
    }
    if (!lease && !this.#options.fresh) {
      await this.#refreshLeftBehind();
      if (this.leftBehind.some((store) => store.chunkCount > 0)) {
        this.state = 'choosing';
        this.#host.requestUpdate();
        return;
      }
    }
    lease ??= await createIdentity(this.#options.capacityBytes ?? defaultCapacity(this.budget));
    await this.#take(lease, generation);
  }

  async #take(lease: IdentityLease, generation: number): Promise<void> {
    if (generation !== this.#generation) {
      lease.release();
      return;
    }
    this.#lease = lease;
    this.identity = lease.identity;
    this.how = lease.how;
    this.#admitted = lease.how !== 'new';
    this.activity = [];
    this.#log('connect', `${HOW_WORDS[lease.how]} node ${lease.identity.id}`);
    await this.#startAgent(generation);
    await this.#refreshLeftBehind();
  }

  async #startAgent(generation: number): Promise<void> {
    this.#stopAgent();
    const identity = this.identity!;
    const store = new IdbChunkStore(identity.id, identity.capacityBytes);
    const agent = new NodeAgent({
      gatewayUrl: this.#options.client.baseUrl,
      nodeId: identity.id,
      token: identity.token,
      // Harmless for a node the cluster knows: the gateway then ignores it, and the invite stays unused.
      join: this.#invite,
      clusterId: identity.clusterId,
      kind: 'browser',
      // A tab's fetch moves chunks several times faster than its WebSocket (DESIGN.md section 9).
      bulk: true,
      store,
      WebSocket: window.WebSocket as unknown as SocketConstructor,
    });
    const snapshot = await agent.snapshot();
    if (generation !== this.#generation) return;
    this.#store = store;
    this.#agent = agent;
    this.stats = snapshot;
    this.#unsubscribe = [
      agent.on('state', ({ state, reason, code }) => {
        this.state = state;
        this.reason = reason ?? '';
        this.refusal = code ?? null;
        this.#host.requestUpdate();
      }),
      agent.on('enrolled', () => this.#onAdmitted()),
      agent.on('cluster', ({ clusterId }) => {
        this.identity = { ...this.identity!, clusterId };
        if (this.#admitted) saveIdentity(this.identity);
      }),
      agent.on('activity', (entry) => {
        this.stats = { ...this.stats, bytesIn: agent.bytesIn, bytesOut: agent.bytesOut };
        this.#push(entry);
      }),
      agent.on('stats', (stats) => {
        this.stats = stats;
        this.#host.requestUpdate();
        void this.#refreshBudget();
      }),
      reloadWhenGatewayBlocked(() => agent.gateways().map((gateway) => gateway.url)),
    ];
    agent.start();
  }

  #onAdmitted(): void {
    this.#invite = undefined;
    if (!this.#admitted) saveIdentity(this.identity!);
    this.#admitted = true;
    this.#options.onAdmitted?.();
  }

  #stopAgent(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#agent?.stop();
    this.#agent = null;
    void this.#store?.close();
    this.#store = null;
    this.state = 'stopped';
  }

  /** What the site may still store changes with what this node stores. */
  async #refreshBudget(): Promise<void> {
    this.budget = await storageBudget();
    this.#host.requestUpdate();
  }

  async #refreshLeftBehind(): Promise<void> {
    this.leftBehind = await this.#leftBehindStores();
    this.#host.requestUpdate();
  }

  /** Stores left by closed tabs, the fullest first. */
  async #leftBehindStores(): Promise<LeftBehindStore[]> {
    const stores = await Promise.all(
      (await leftBehindIdentities()).map(async (identity) => {
        const store = new IdbChunkStore(identity.id, identity.capacityBytes);
        try {
          return { identity, ...(await store.stats()) };
        } finally {
          await store.close();
        }
      }),
    );
    return stores.sort((a, b) => b.chunkCount - a.chunkCount);
  }

  #fail(reason: string, state: NodeTabState = 'rejected'): void {
    this.state = state;
    this.reason = reason;
    this.refusal = null;
    this.#host.requestUpdate();
  }

  #log(kind: AgentActivity['kind'], message: string): void {
    this.#push({ at: Date.now(), kind, message });
  }

  #push(entry: AgentActivity): void {
    this.activity = [entry, ...this.activity].slice(0, LOG_LENGTH);
    this.#redrawTimer ??= setTimeout(() => {
      this.#redrawTimer = null;
      this.#host.requestUpdate();
    }, LOG_REDRAW_MS);
  }
}
