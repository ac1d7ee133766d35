import type { ChunkStore, ChunkStoreStats } from './chunk-store.ts';
import { asBlob } from './blob-bytes.ts';
import { toShoalError } from './errors.ts';
import { toHex } from './hash.ts';
import { gatewayProof, nodeProof, nodeVerifier } from './node-proof.ts';
import type {
  ChallengeMessage,
  DeleteMessage,
  GatewayAddress,
  GatewayChallenge,
  GatewayToNode,
  GetMessage,
  ListManifestsMessage,
  NodeKind,
  NodeToGateway,
  PutMessage,
  WelcomeMessage,
} from './protocol.ts';
import {
  bulkUrl,
  CLOSE,
  decodeFrame,
  decodeFrameParts,
  encodeFrame,
  INVENTORY_PAGE_SIZE,
  MAX_CHUNK_BYTES,
  MAX_GATEWAYS,
  NODE_WS_PATH,
  PROTOCOL_VERSION,
  SEPARATE_PAYLOAD_BYTES,
} from './protocol.ts';
import { ShoalError } from './errors.ts';
import { responseBytes } from './response-bytes.ts';
import { Scrubber } from './scrubber.ts';

/** The slice of the WebSocket API the agent needs: met by browsers' WebSocket and by `ws`. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  /** `options` only where binaryType is 'fragments' (`ws`): browsers' send takes one argument. */
  send(data: Uint8Array, options?: { binary: boolean; fin: boolean }): void;
  close(code?: number, reason?: string): void;
  /** Stop and start reading the connection (`ws`); a browser's WebSocket cannot. */
  pause?(): void;
  resume?(): void;
  /** An unsolicited pong (RFC 6455 §5.5.3): a heartbeat the gateway hears while the socket is not read. */
  pong?(): void;
}
export type SocketConstructor = new (url: string) => SocketLike;

export type AgentState = 'stopped' | 'connecting' | 'online' | 'waiting' | 'rejected';

export interface AgentActivity {
  at: number;
  kind: 'put' | 'get' | 'delete' | 'connect' | 'disconnect' | 'scrub' | 'error';
  message: string;
  bytes?: number;
}

export interface AgentEvents {
  /** `code`: the gateway's close code (CLOSE) when it refused the node for good, so a page can say why in its own words. */
  state: { state: AgentState; reason?: string; code?: number };
  activity: AgentActivity;
  stats: ChunkStoreStats & { capacityBytes: number; bytesIn: number; bytesOut: number };
  /** The gateway accepted the join credential: it is not needed again. */
  enrolled: { nodeId: string };
  /** The node joined a cluster for the first time: keep its id with the chunks. */
  cluster: { clusterId: string };
  /** The gateways the proven gateways name changed: keep them, to be dialled on the next start. */
  gateways: { gateways: GatewayAddress[] };
}

export interface NodeAgentOptions {
  /** The gateway the node is given; it learns the cluster's other gateways from those that prove themselves. */
  gatewayUrl: string;
  /**
   * Gateways the node learnt before (the `gateways` event of an earlier run), dialled at start
   * beside the given one so that a node restarted while that one is down still finds the cluster.
   * They are gateways the node was told of: nothing is done for one until it proves itself.
   */
  remembered?: readonly GatewayAddress[];
  nodeId: string;
  /** The node's secret: never sent, only used to answer the gateway's challenges. */
  token: string;
  /** The cluster's join secret or an invite, for a node the cluster has not enrolled yet. */
  join?: string;
  /** The cluster this node's chunks belong to, once it has joined one: it serves no other. */
  clusterId?: string;
  kind: NodeKind;
  cpu?: number;
  store: ChunkStore;
  WebSocket: SocketConstructor;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  statsIntervalMs?: number;
  random?: () => number;
  /**
   * 'arraybuffer' in browsers. With Node's `ws`, 'fragments': a message arrives as its fragments and
   * a chunk goes out as a fragment of its own after its header, so neither side copies a chunk
   * into one buffer with its header.
   */
  binaryType?: string;
  /**
   * Offer to move chunk bytes over HTTP (fetch) rather than in frames: for browser tabs, whose
   * fetch is several times faster than their WebSocket. A gateway that does not take the offer,
   * or a transfer that fails, leaves the session on frames. Offered to the gateway given only: a
   * tab's page is that gateway's, and its fetch to another would be a cross-origin request.
   */
  bulk?: boolean;
  /** Pause between background scrub passes over every chunk held. */
  scrubIntervalMs?: number;
  scrubBytesPerSecond?: number;
  /** Bytes of chunks the node takes in at once, from all its gateways (PUT_BUDGET_BYTES). */
  putBudgetBytes?: number;
}

/**
 * A gateway sends a node at most its window of puts at once (8 of 4 MiB chunks to a disk node, 2
 * to a tab, by default), so a few gateways together stay well within this. One that ignores its
 * window, hostile or buggy, could otherwise make the node hold any number of chunks of up to
 * 64 MiB in memory at once.
 */
export const PUT_BUDGET_BYTES = 128 * 1024 * 1024;
/** Well within a gateway's silence limit (offlineAfterMs, 15 s by default). */
const PAUSED_HEARTBEAT_MS = 2_000;

/**
 * Chunks found gone are reported this many a second at most: the gateway takes 100 hashes a second
 * in the reports a node sends of its own accord, and stats and scrub damage need some of them.
 */
const MISSING_PER_SECOND = 50;

type Listener<T> = (value: T) => void;
type Handler<M> = (header: M, payload: Uint8Array, link: GatewayLink, socket: SocketLike) => Promise<void> | void;
type Answer = (header: NodeToGateway, payload?: Uint8Array) => void;

/** One gateway the node keeps a link to: its socket, its backoff and its session's HTTP transfers. */
interface GatewayLink {
  /** The node WebSocket's URL. */
  readonly url: string;
  /**
   * The gateway the node was given. Its refusals count even before it proves itself, and it may be
   * a gateway of an older release, which cannot: the node then serves it as it always did, alone.
   */
  readonly seed: boolean;
  socket: SocketLike | null;
  state: 'connecting' | 'online' | 'waiting';
  reason?: string;
  attempt: number;
  retryTimer: ReturnType<typeof setTimeout> | null;
  /** This session's key for HTTP transfers, from its welcome; null when chunks go in frames. */
  bulkSession: string | null;
  /** This connection's challenge to the gateway, sent in its hello. */
  challenge: GatewayChallenge | null;
  /** This connection's gateway proved it knows the node's verifier: it is one of the cluster's gateways, and what it says of the others is believed. */
  proven: boolean;
  /** As its last welcome said: one link per gateway, whatever URLs name it. */
  gatewayId: string | null;
  /** The gateways it named last. */
  listed: GatewayAddress[];
}

const HANDSHAKE: string[] = ['challenge', 'welcome', 'error'];

/** Refusals that end the node's service for good: it is unknown, removed, someone else, or run elsewhere. */
const FINAL_CLOSES: number[] = [CLOSE.IDENTITY_MISMATCH, CLOSE.NOT_ADMITTED, CLOSE.NOT_ENROLLED, CLOSE.REPLACED, CLOSE.REMOVED, CLOSE.BAD_HELLO];

/**
 * The one storage-node implementation, shared by disk nodes and browser tabs. It dials out to the
 * gateway it is given, introduces itself, reports its inventory, serves put/get/delete against its
 * ChunkStore, and reconnects with exponential backoff and jitter. A gateway that proves it knows
 * the node (one of its cluster's) names the cluster's other gateways, and the node keeps a link to
 * each over the same store, so any gateway reads and writes its chunks directly. Liveness is each
 * gateway's WebSocket ping, which both `ws` and browsers answer below JavaScript, so throttled page
 * timers cannot make a tab look dead.
 */
export class NodeAgent {
  readonly options: Required<Omit<NodeAgentOptions, 'cpu' | 'join' | 'clusterId'>> & { cpu?: number };
  state: AgentState = 'stopped';
  #reason: string | undefined;
  bytesIn = 0;
  bytesOut = 0;
  /** By URL; the given gateway's first. */
  readonly #links = new Map<string, GatewayLink>();
  #running = false;
  #statsTimer: ReturnType<typeof setTimeout> | null = null;
  #lastStatsAt = 0;
  /** Chunks that left the store behind its back, waiting to be reported to the gateway. */
  readonly #missing = new Set<string>();
  #missingTimer: ReturnType<typeof setTimeout> | null = null;
  #join: string | undefined;
  #clusterId: string | undefined;
  /** Bytes of the puts being stored now, and the sockets left unread until they drop within the budget. */
  #putBytes = 0;
  readonly #paused = new Set<SocketLike>();
  /** Pongs on the paused sockets, whose gateways' pings go unread meanwhile. */
  #pausedHeartbeat: ReturnType<typeof setInterval> | null = null;
  /** The gateways last said in a `gateways` event (or given as remembered), as JSON. */
  #remembered = '[]';
  #verifier: Promise<string>;
  readonly #scrubber: Scrubber;
  readonly #listeners: { [K in keyof AgentEvents]: Set<Listener<AgentEvents[K]>> } = {
    state: new Set(),
    activity: new Set(),
    stats: new Set(),
    enrolled: new Set(),
    cluster: new Set(),
    gateways: new Set(),
  };
  readonly #handlers: { [K in GatewayToNode['type']]: Handler<Extract<GatewayToNode, { type: K }>> } = {
    challenge: (m, _payload, link, socket) => this.#onChallenge(m, link, socket),
    welcome: (m, _payload, link, socket) => this.#onWelcome(m, link, socket),
    put: (m, payload, link, socket) => this.#onPut(m, payload, link, socket),
    get: (m, _payload, link, socket) => this.#onGet(m, link, socket),
    delete: (m, _payload, link, socket) => this.#onDelete(m, link, socket),
    'list-manifests': (m, _payload, link, socket) => this.#onListManifests(m, link, socket),
    scrub: () => this.#scrubber.runNow(),
    gateways: (m, _payload, link) => {
      if (link.proven && link.state === 'online') this.#learn(link, m.gateways);
    },
    error: (m, _payload, link) => this.#log('error', `gateway ${link.url}: ${m.code} ${m.message}`),
  };

  constructor(options: NodeAgentOptions) {
    this.options = {
      backoffInitialMs: 500,
      backoffMaxMs: 30_000,
      statsIntervalMs: 1000,
      random: Math.random,
      binaryType: 'arraybuffer',
      bulk: false,
      remembered: [],
      scrubIntervalMs: 60 * 60 * 1000,
      scrubBytesPerSecond: 16 * 1024 * 1024,
      putBudgetBytes: PUT_BUDGET_BYTES,
      // An option passed as undefined means "the default", not "unset".
      ...(Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as NodeAgentOptions),
    };
    this.#join = options.join;
    this.#clusterId = options.clusterId;
    this.#verifier = nodeVerifier(options.token);
    this.#scrubber = new Scrubber(this.options.store, {
      intervalMs: this.options.scrubIntervalMs,
      bytesPerSecond: this.options.scrubBytesPerSecond,
      onCorrupt: (hash) => {
        this.#log('scrub', `scrub found ${short(hash)} damaged and dropped it`);
        this.#reply({ type: 'corrupt', hashes: [hash] });
        this.#statsChanged();
      },
      onPass: ({ checked, corrupt }) => this.#log('scrub', `scrub pass checked ${checked} chunk(s), ${corrupt} damaged`),
      onFailure: (err) => this.#log('error', `scrub pass failed: ${toShoalError(err).message}`),
    });
    this.options.store.onVanished((hashes) => {
      this.#log('scrub', `${hashes.length} chunk(s) gone from storage, reported as missing`);
      for (const hash of hashes) this.#missing.add(hash);
      this.#reportMissing();
      this.#statsChanged();
    });
  }

  on<K extends keyof AgentEvents>(event: K, listener: Listener<AgentEvents[K]>): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const url = socketUrl(this.options.gatewayUrl);
    this.#links.set(url, newLink(url, true));
    this.#remembered = JSON.stringify(this.options.remembered);
    for (const gateway of addresses(this.options.remembered)) {
      if (!this.#links.has(gateway.url)) this.#links.set(gateway.url, newLink(gateway.url, false));
    }
    for (const link of this.#links.values()) this.#connect(link);
    this.#scrubber.start();
  }

  stop(): void {
    this.#halt();
    this.#setState('stopped');
  }

  /** The gateways this node is linked to now, by URL, and whether each link is up. */
  gateways(): Array<{ url: string; gatewayId: string | null; online: boolean }> {
    return [...this.#links.values()].map((link) => ({ url: link.url, gatewayId: link.gatewayId, online: link.state === 'online' }));
  }

  #halt(): void {
    this.#running = false;
    this.#scrubber.stop();
    this.#clearTimers();
    for (const link of this.#links.values()) this.#drop(link, 1000, 'node stopping');
  }

  /** Ends a link for good. */
  #drop(link: GatewayLink, code: number, reason: string): void {
    if (link.retryTimer) clearTimeout(link.retryTimer);
    link.retryTimer = null;
    const socket = link.socket;
    link.socket = null;
    socket?.close(code, reason);
    this.#links.delete(link.url);
  }

  async snapshot(): Promise<AgentEvents['stats']> {
    const stats = await this.options.store.stats();
    return { ...stats, capacityBytes: this.options.store.capacityBytes, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
  }

  #connect(link: GatewayLink): void {
    link.retryTimer = null;
    this.#setLinkState(link, 'connecting');
    let socket: SocketLike;
    try {
      socket = new this.options.WebSocket(link.url);
    } catch (err) {
      this.#log('error', `cannot open ${link.url}: ${toShoalError(err).message}`);
      this.#scheduleReconnect(link);
      return;
    }
    link.socket = socket;
    link.bulkSession = null;
    link.proven = false;
    link.challenge = { host: new URL(link.url).host, nonce: randomNonce() };
    socket.binaryType = this.options.binaryType;
    socket.onopen = () => void this.#sendHello(link, socket);
    socket.onmessage = (ev) => void this.#onMessage(link, socket, ev.data);
    socket.onerror = () => {};
    socket.onclose = (ev) => this.#onClose(link, socket, ev.code, ev.reason);
  }

  async #sendHello(link: GatewayLink, socket: SocketLike): Promise<void> {
    const stats = await this.options.store.stats();
    // The join credential goes to the gateway the node was given, never to one it was told of.
    const join = link.seed && this.#join !== undefined ? { credential: this.#join, verifier: await this.#verifier } : undefined;
    this.#send(socket, {
      type: 'hello',
      nodeId: this.options.nodeId,
      kind: this.options.kind,
      capacityBytes: this.options.store.capacityBytes,
      usedBytes: stats.usedBytes,
      chunkCount: stats.chunkCount,
      cpu: this.options.cpu,
      version: PROTOCOL_VERSION,
      join,
      clusterId: this.#clusterId,
      bulk: (this.options.bulk && link.seed) || undefined,
      gateway: link.challenge ?? undefined,
    });
  }

  /**
   * A gateway that proves it knows this node's verifier, for the host dialed, is one of the
   * cluster's, and gets a proof bound to the same: relayed to a gateway under another name it is
   * worth nothing. The given gateway is answered whatever its proof, as it always was (if this node
   * is not who it says, that gateway refuses it for good), and an older one that proves nothing
   * gets the proof it always did; neither is believed about other gateways. A gateway the node was
   * told of that cannot prove itself gets no answer.
   */
  async #onChallenge(m: ChallengeMessage, link: GatewayLink, socket: SocketLike): Promise<void> {
    const verifier = await this.#verifier;
    const nonce = String(m.nonce);
    const challenge = link.challenge!;
    const answered = typeof m.proof === 'string';
    link.proven = answered && m.proof === (await gatewayProof(verifier, this.options.nodeId, nonce, challenge));
    if (link.proven || (link.seed && answered)) {
      this.#answerOn(link, socket)({ type: 'proof', proof: await nodeProof(verifier, this.options.nodeId, nonce, challenge) });
    } else if (link.seed) {
      this.#answerOn(link, socket)({ type: 'proof', proof: await nodeProof(verifier, this.options.nodeId, nonce) });
    } else {
      this.#log('error', `${link.url} could not prove it is a gateway of this node's cluster: not serving it`);
      socket.close(CLOSE.PROTOCOL_ERROR, 'no valid gateway proof');
    }
  }

  async #onMessage(link: GatewayLink, socket: SocketLike, data: unknown): Promise<void> {
    if (socket !== link.socket) return;
    const parts = Array.isArray(data) && data.every((part) => part instanceof Uint8Array);
    if (!(data instanceof ArrayBuffer) && !(data instanceof Uint8Array) && !parts) {
      socket.close(CLOSE.PROTOCOL_ERROR, 'text frames are not part of the protocol');
      return;
    }
    let frame;
    try {
      frame = parts ? decodeFrameParts(data as Uint8Array[]) : decodeFrame(data as ArrayBuffer | Uint8Array);
    } catch (err) {
      this.#log('error', toShoalError(err).message);
      socket.close(CLOSE.PROTOCOL_ERROR, 'bad frame');
      return;
    }
    const header = frame.header as GatewayToNode;
    // Requests come once the gateway has welcomed the node, never before: a stranger that skips the
    // handshake gets nothing stored, served or deleted.
    if (link.state !== 'online' && !HANDSHAKE.includes(header.type)) {
      socket.close(CLOSE.PROTOCOL_ERROR, `${header.type} before the welcome`);
      return;
    }
    const handler = this.#handlers[header.type] as Handler<GatewayToNode> | undefined;
    if (!handler) {
      this.#answerOn(link, socket)({ type: 'error', id: (header as { id?: number }).id, code: 'BAD_FRAME', message: `unknown message type ${header.type}` });
      return;
    }
    try {
      await handler(header, frame.payload, link, socket);
    } catch (err) {
      // Requests answer their own failures; this is the node itself failing (its store cannot be
      // listed): leave, and come back once it can.
      this.#log('error', `${header.type} failed: ${toShoalError(err).message}`);
      socket.close(1011, 'node storage failed');
    }
  }

  async #onWelcome(m: WelcomeMessage, link: GatewayLink, socket: SocketLike): Promise<void> {
    if (!link.seed && !link.proven) {
      socket.close(CLOSE.PROTOCOL_ERROR, 'welcomed without a gateway proof');
      return;
    }
    if (this.#clusterId !== undefined && m.clusterId !== this.#clusterId) {
      socket.close(CLOSE.WRONG_CLUSTER, `this node belongs to cluster ${this.#clusterId}, not ${String(m.clusterId)}`);
      return;
    }
    if (this.#clusterId === undefined && typeof m.clusterId === 'string') {
      this.#clusterId = m.clusterId;
      this.#emit('cluster', { clusterId: m.clusterId });
    }
    if (link.proven && typeof m.gatewayId === 'string') {
      // Two URLs of one gateway: the link the node was told of goes, the one it was given stays.
      const twin = [...this.#links.values()].find((other) => other !== link && other.gatewayId === m.gatewayId);
      if (twin && !link.seed) {
        this.#drop(link, 1000, 'already linked to this gateway');
        return;
      }
      if (twin) this.#drop(twin, 1000, 'already linked to this gateway');
      link.gatewayId = m.gatewayId;
    }
    link.attempt = 0;
    link.bulkSession = this.options.bulk && link.seed && typeof m.bulk === 'string' ? m.bulk : null;
    if (link.seed && this.#join !== undefined) {
      this.#join = undefined;
      this.#emit('enrolled', { nodeId: this.options.nodeId });
    }
    this.#setLinkState(link, 'online');
    this.#log('connect', `connected to ${link.url}`);
    const hashes = await this.options.store.list();
    // The gateway learns what is gone from this inventory, by omission.
    this.#missing.clear();
    const answer = this.#answerOn(link, socket);
    for (let i = 0; i < hashes.length || i === 0; i += INVENTORY_PAGE_SIZE) {
      const page = hashes.slice(i, i + INVENTORY_PAGE_SIZE);
      answer({ type: 'inventory', hashes: page, done: i + INVENTORY_PAGE_SIZE >= hashes.length });
    }
    if (link.proven && Array.isArray(m.gateways)) this.#learn(link, m.gateways);
  }

  /**
   * Links to the gateways a proven gateway names, and lets go of those no online gateway names any
   * more while their link is down: a gateway gone for good is not dialled forever.
   */
  #learn(from: GatewayLink, gateways: unknown): void {
    if (!this.#running || !Array.isArray(gateways)) return;
    from.listed = addresses(gateways);
    const links = [...this.#links.values()];
    for (const gateway of from.listed) {
      if (links.some((link) => link.gatewayId === gateway.id || link.url === gateway.url)) continue;
      const link = newLink(gateway.url, false);
      this.#links.set(link.url, link);
      this.#connect(link);
    }
    const named = new Set<string>();
    for (const link of this.#links.values()) {
      if (link.state === 'online' && link.proven) for (const gateway of link.listed) named.add(gateway.id).add(gateway.url);
    }
    for (const link of this.#links.values()) {
      if (!link.seed && link.state !== 'online' && !named.has(link.url) && !(link.gatewayId !== null && named.has(link.gatewayId))) {
        this.#drop(link, 1000, 'no gateway names this one any more');
      }
    }
    this.#refreshState();
    this.#rememberNamed();
  }

  /** Says when the gateways the online proven links name changed, for the next start to dial them. */
  #rememberNamed(): void {
    const named = new Map<string, GatewayAddress>();
    for (const link of this.#links.values()) {
      if (link.state === 'online' && link.proven) for (const gateway of link.listed) named.set(gateway.url, gateway);
    }
    const gateways = [...named.values()].sort((x, y) => x.url.localeCompare(y.url));
    const json = JSON.stringify(gateways);
    if (gateways.length === 0 || json === this.#remembered) return;
    this.#remembered = json;
    this.#emit('gateways', { gateways });
  }

  async #onPut(m: PutMessage, framed: Uint8Array, link: GatewayLink, socket: SocketLike): Promise<void> {
    await this.#serve(link, socket, m.id, 'put', async (answer) => {
      const release = this.#holdPut(framed.length, socket);
      try {
        const payload = m.transfer === undefined ? framed : await this.#fetchTransfer(link, String(m.transfer));
        await this.options.store.put(m.hash, payload, m.kind === 'manifest' ? 'manifest' : 'chunk');
        this.bytesIn += payload.length;
        answer({ type: 'ok', id: m.id });
        this.#log('put', `stored ${short(m.hash)}`, payload.length);
        this.#statsChanged();
      } finally {
        release();
      }
    });
  }

  /**
   * Counts a put's chunk while it is stored. Past the budget the socket it came on is no longer
   * read until earlier puts finish, so a gateway's further frames wait in its own buffers; a socket
   * that cannot pause (a browser's) has further puts refused, which the gateway takes as any failed
   * put: it writes the copy elsewhere. A put over HTTP (`transfer`) carries no bytes here: only the
   * gateway a tab was given sends those, and that gateway served the page's code anyway.
   */
  #holdPut(bytes: number, socket: SocketLike): () => void {
    const budget = this.options.putBudgetBytes;
    if (this.#putBytes >= budget && !socket.pause) {
      throw new ShoalError('NODE_BUSY', `node busy: it holds ${this.#putBytes} bytes of puts, its budget is ${budget}; try again once earlier puts are answered`);
    }
    this.#putBytes += bytes;
    if (this.#putBytes > budget && socket.pause) {
      socket.pause();
      this.#paused.add(socket);
      // A paused socket reads no ping, so it answers none: without a heartbeat of its own, a node
      // that is only waiting on its disk would look dead to its gateways past their silence limit.
      this.#pausedHeartbeat ??= setInterval(() => {
        for (const paused of this.#paused) paused.pong?.();
      }, PAUSED_HEARTBEAT_MS);
    }
    return () => {
      this.#putBytes -= bytes;
      if (this.#putBytes > budget) return;
      for (const paused of this.#paused) paused.resume?.();
      this.#paused.clear();
      this.#endPausedHeartbeat();
    };
  }

  #endPausedHeartbeat(): void {
    if (this.#pausedHeartbeat) clearInterval(this.#pausedHeartbeat);
    this.#pausedHeartbeat = null;
  }

  async #onGet(m: GetMessage, link: GatewayLink, socket: SocketLike): Promise<void> {
    await this.#serve(link, socket, m.id, 'get', async (answer) => {
      const ranged = m.offset !== undefined || m.length !== undefined;
      const data = ranged ? await this.options.store.getRange(m.hash, Number(m.offset), Number(m.length)) : await this.options.store.get(m.hash);
      this.bytesOut += data.length;
      if (m.transfer === undefined || !(await this.#postTransfer(link, String(m.transfer), data))) answer({ type: 'data', id: m.id }, data);
      this.#log('get', `served ${short(m.hash)}`, data.length);
    });
  }

  async #onDelete(m: DeleteMessage, link: GatewayLink, socket: SocketLike): Promise<void> {
    await this.#serve(link, socket, m.id, 'delete', async (answer) => {
      await this.options.store.delete(m.hashes);
      answer({ type: 'ok', id: m.id });
      this.#log('delete', `deleted ${m.hashes.length} chunk(s)`);
      this.#statsChanged();
    });
  }

  async #onListManifests(m: ListManifestsMessage, link: GatewayLink, socket: SocketLike): Promise<void> {
    await this.#serve(link, socket, m.id, 'list-manifests', async (answer) => {
      const after = typeof m.after === 'string' ? m.after : '';
      const limit = Number.isSafeInteger(m.limit) && m.limit > 0 ? m.limit : INVENTORY_PAGE_SIZE;
      const page = (await this.options.store.listManifests()).filter((hash) => hash > after).sort().slice(0, limit);
      answer({ type: 'data', id: m.id }, new TextEncoder().encode(page.join('')));
    });
  }

  /** A put's chunk, fetched once over HTTP; a failure leaves this session on frames, and the gateway sends it again in one. */
  async #fetchTransfer(link: GatewayLink, transfer: string): Promise<Uint8Array> {
    const session = link.bulkSession;
    if (session !== null) {
      try {
        const res = await fetch(bulkUrl(link.url, session, transfer), { credentials: 'omit', cache: 'no-store' });
        if (res.ok) return await responseBytes(res, MAX_CHUNK_BYTES);
        await res.body?.cancel();
        this.#bulkFailed(link, `refused (${res.status})`);
      } catch (err) {
        this.#bulkFailed(link, `failed (${toShoalError(err).message})`);
      }
    }
    throw new ShoalError('BULK_TRANSFER_FAILED', 'this node could not fetch the chunk over HTTP: send it in a frame');
  }

  /** Whether the gateway took a get's answer over HTTP; if not, this session answers in frames from now on. */
  async #postTransfer(link: GatewayLink, transfer: string, data: Uint8Array): Promise<boolean> {
    const session = link.bulkSession;
    if (session === null) return false;
    try {
      // A Blob, not the bytes: Chromium uploads an ArrayBuffer body at a few MB/s and a Blob at
      // wire speed (measured: 3 against 90 MiB/s); the one the bytes were read from, where there
      // is one, costs no copy. Its empty type keeps the request free of a CORS preflight from a
      // page on another origin.
      const body = asBlob(data);
      const res = await fetch(bulkUrl(link.url, session, transfer), { method: 'POST', body, credentials: 'omit' });
      await res.body?.cancel();
      if (res.ok) return true;
      this.#bulkFailed(link, `refused (${res.status})`);
    } catch (err) {
      this.#bulkFailed(link, `failed (${toShoalError(err).message})`);
    }
    return false;
  }

  #bulkFailed(link: GatewayLink, why: string): void {
    link.bulkSession = null;
    this.#log('error', `chunk transfer ${why}: chunks go over the WebSocket from now on`);
  }

  async #serve(link: GatewayLink, socket: SocketLike, id: number, what: string, work: (answer: Answer) => Promise<void>): Promise<void> {
    const answer = this.#answerOn(link, socket);
    try {
      await work(answer);
    } catch (err) {
      const e = toShoalError(err);
      answer({ type: 'error', id, code: e.code, message: e.message });
      this.#log('error', `${what} failed: ${e.code} ${e.message}`);
      // Both change what the gateway should know at once: a copy gone, or a node whose storage is full.
      if (e.code === 'CHUNK_CORRUPT' || e.code === 'NODE_FULL') this.#statsChanged();
    }
  }

  /**
   * A refusal for good from the gateway the node was given, or from one that proved itself, is the
   * cluster's word (its gateways share one database): the node stops on every link. From a gateway
   * that proved nothing it is a stranger's, and the node only tries that link again later.
   */
  #onClose(link: GatewayLink, socket: SocketLike, code: number, reason: string): void {
    if (socket !== link.socket) return;
    link.socket = null;
    link.bulkSession = null;
    if (link.state === 'online' || code === CLOSE.WRONG_CLUSTER) this.#log('disconnect', `disconnected from ${link.url} (${code}${reason ? ` ${reason}` : ''})`);
    if (FINAL_CLOSES.includes(code) && (link.seed || link.proven)) {
      this.#halt();
      this.#setState('rejected', reason || `closed with ${code}`, code);
      return;
    }
    this.#scheduleReconnect(link);
  }

  #scheduleReconnect(link: GatewayLink): void {
    if (!this.#running) return;
    const { backoffInitialMs, backoffMaxMs, random } = this.options;
    // 0.5-1 s, then 1-2 s, ... up to 30 s: the jitter spreads nodes that lost the gateway together.
    const base = Math.min(backoffMaxMs, backoffInitialMs * 2 ** link.attempt);
    const delay = Math.min(backoffMaxMs, base + random() * base);
    link.attempt++;
    this.#setLinkState(link, 'waiting', `reconnecting in ${Math.round(delay)} ms`);
    link.retryTimer = setTimeout(() => this.#connect(link), delay);
  }

  #setLinkState(link: GatewayLink, state: GatewayLink['state'], reason?: string): void {
    link.state = state;
    link.reason = reason;
    this.#refreshState();
  }

  /** Online while any gateway is linked; otherwise as the link to the given gateway stands. */
  #refreshState(): void {
    if (!this.#running) return;
    const links = [...this.#links.values()];
    const seed = links.find((link) => link.seed)!;
    const online = links.some((link) => link.state === 'online');
    const state = online ? 'online' : seed.state;
    const reason = online ? undefined : seed.reason;
    if (state !== this.state || reason !== this.#reason) this.#setState(state, reason);
  }

  /** Sends stats soon: for changes the agent cannot see, like a disk's free space. */
  reportStats(): void {
    this.#statsChanged();
  }

  /** Stats go out after changes, at most once per interval, so a burst of puts is one message. */
  #statsChanged(): void {
    if (this.#statsTimer) return;
    const wait = Math.max(0, this.#lastStatsAt + this.options.statsIntervalMs - Date.now());
    this.#statsTimer = setTimeout(async () => {
      this.#statsTimer = null;
      this.#lastStatsAt = Date.now();
      const snapshot = await this.snapshot();
      this.#reply({ type: 'stats', usedBytes: snapshot.usedBytes, chunkCount: snapshot.chunkCount, capacityBytes: snapshot.capacityBytes });
      this.#emit('stats', snapshot);
    }, wait);
  }

  /**
   * Reports chunks found gone a page a second, so a directory restored from an older copy stays
   * within the gateway's budget. Those left when the session ends are in the next one's inventory.
   */
  #reportMissing(): void {
    if (this.#missingTimer || this.#missing.size === 0 || this.state !== 'online') return;
    const page = [...this.#missing].slice(0, MISSING_PER_SECOND);
    for (const hash of page) this.#missing.delete(hash);
    this.#reply({ type: 'corrupt', hashes: page, missing: true });
    this.#missingTimer = setTimeout(() => {
      this.#missingTimer = null;
      this.#reportMissing();
    }, 1000);
  }

  /**
   * Sends a report of the node's own accord to every gateway that has welcomed it: before that a
   * gateway takes only the handshake, and what a report would say the coming inventory says.
   */
  #reply(header: NodeToGateway, payload?: Uint8Array): void {
    for (const link of this.#links.values()) if (link.socket && link.state === 'online') this.#send(link.socket, header, payload);
  }

  /**
   * Answers go back on the connection the request came in on, or nowhere: request ids belong to
   * one session, and an answer carried over to the next one could settle an unrelated request.
   */
  #answerOn(link: GatewayLink, socket: SocketLike): Answer {
    return (header, payload) => {
      if (socket === link.socket) this.#send(socket, header, payload);
    };
  }

  #send(socket: SocketLike, header: NodeToGateway, payload?: Uint8Array): void {
    if (socket.readyState !== 1) return;
    if (payload && payload.length >= SEPARATE_PAYLOAD_BYTES && this.options.binaryType === 'fragments') {
      socket.send(encodeFrame(header), { binary: true, fin: false });
      socket.send(payload, { binary: true, fin: true });
    } else {
      socket.send(encodeFrame(header, payload));
    }
  }

  #setState(state: AgentState, reason?: string, code?: number): void {
    this.state = state;
    this.#reason = reason;
    this.#emit('state', { state, reason, code });
  }

  #log(kind: AgentActivity['kind'], message: string, bytes?: number): void {
    this.#emit('activity', { at: Date.now(), kind, message, bytes });
  }

  #emit<K extends keyof AgentEvents>(event: K, value: AgentEvents[K]): void {
    for (const listener of this.#listeners[event]) listener(value);
  }

  #clearTimers(): void {
    if (this.#statsTimer) clearTimeout(this.#statsTimer);
    if (this.#missingTimer) clearTimeout(this.#missingTimer);
    this.#statsTimer = null;
    this.#missingTimer = null;
    this.#endPausedHeartbeat();
  }
}

function short(hash: string): string {
  return hash.slice(0, 12);
}

/** A gateway's node WebSocket URL from its URL, given as http(s):// or ws(s)://: TLS either way when it says so. */
function socketUrl(gatewayUrl: string): string {
  const url = new URL(NODE_WS_PATH, gatewayUrl);
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new ShoalError('BAD_REQUEST', `${url.protocol} is not a gateway's scheme`);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  return url.href;
}

/** The well-formed gateway addresses of a list a gateway sent (or a file kept), at most MAX_GATEWAYS, with socket URLs. */
function addresses(gateways: readonly unknown[]): GatewayAddress[] {
  return gateways.slice(0, MAX_GATEWAYS).flatMap((entry) => {
    const { id, url } = (entry ?? {}) as Partial<GatewayAddress>;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128 || typeof url !== 'string') return [];
    try {
      return [{ id, url: socketUrl(url) }];
    } catch {
      return [];
    }
  });
}

function newLink(url: string, seed: boolean): GatewayLink {
  return { url, seed, socket: null, state: 'connecting', attempt: 0, retryTimer: null, bulkSession: null, challenge: null, proven: false, gatewayId: null, listed: [] };
}

function randomNonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}
