import type { ChunkStore, ChunkStoreStats } from './chunk-store.ts';
import { toShoalError } from './errors.ts';
import { nodeProof, nodeVerifier } from './node-proof.ts';
import type {
  ChallengeMessage,
  DeleteMessage,
  GatewayToNode,
  GetMessage,
  ListManifestsMessage,
  NodeKind,
  NodeToGateway,
  PutMessage,
  WelcomeMessage,
} from './protocol.ts';
import { bulkUrl, CLOSE, decodeFrame, decodeFrameParts, encodeFrame, INVENTORY_PAGE_SIZE, NODE_WS_PATH, PROTOCOL_VERSION, SEPARATE_PAYLOAD_BYTES } from './protocol.ts';
import { ShoalError } from './errors.ts';
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
}

export interface NodeAgentOptions {
  gatewayUrl: string;
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
   * or a transfer that fails, leaves the session on frames.
   */
  bulk?: boolean;
  /** Pause between background scrub passes over every chunk held. */
  scrubIntervalMs?: number;
  scrubBytesPerSecond?: number;
}

/**
 * Chunks found gone are reported this many a second at most: the gateway takes 100 hashes a second
 * in the reports a node sends of its own accord, and stats and scrub damage need some of them.
 */
const MISSING_PER_SECOND = 50;

type Listener<T> = (value: T) => void;
type Handler<M> = (header: M, payload: Uint8Array, socket: SocketLike) => Promise<void> | void;
type Answer = (header: NodeToGateway, payload?: Uint8Array) => void;

/**
 * The one storage-node implementation, shared by disk nodes and browser tabs. It dials out to the
 * gateway, introduces itself, reports its inventory, serves put/get/delete against its ChunkStore,
 * and reconnects with exponential backoff and jitter. Liveness is the gateway's WebSocket ping,
 * which both `ws` and browsers answer below JavaScript, so throttled page timers cannot make a tab
 * look dead.
 */
export class NodeAgent {
  readonly options: Required<Omit<NodeAgentOptions, 'cpu' | 'join' | 'clusterId'>> & { cpu?: number };
  state: AgentState = 'stopped';
  bytesIn = 0;
  bytesOut = 0;
  #socket: SocketLike | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #statsTimer: ReturnType<typeof setTimeout> | null = null;
  #lastStatsAt = 0;
  /** Chunks that left the store behind its back, waiting to be reported to the gateway. */
  readonly #missing = new Set<string>();
  #missingTimer: ReturnType<typeof setTimeout> | null = null;
  #join: string | undefined;
  #clusterId: string | undefined;
  #verifier: Promise<string>;
  /** This session's key for HTTP transfers, from its welcome; null when chunks go in frames. */
  #bulkSession: string | null = null;
  readonly #scrubber: Scrubber;
  readonly #listeners: { [K in keyof AgentEvents]: Set<Listener<AgentEvents[K]>> } = {
    state: new Set(),
    activity: new Set(),
    stats: new Set(),
    enrolled: new Set(),
    cluster: new Set(),
  };
  readonly #handlers: { [K in GatewayToNode['type']]: Handler<Extract<GatewayToNode, { type: K }>> } = {
    challenge: (m, _payload, socket) => this.#onChallenge(m, socket),
    welcome: (m, _payload, socket) => this.#onWelcome(m, socket),
    put: (m, payload, socket) => this.#onPut(m, payload, socket),
    get: (m, _payload, socket) => this.#onGet(m, socket),
    delete: (m, _payload, socket) => this.#onDelete(m, socket),
    'list-manifests': (m, _payload, socket) => this.#onListManifests(m, socket),
    scrub: () => this.#scrubber.runNow(),
    error: (m) => this.#log('error', `gateway: ${m.code} ${m.message}`),
  };

  constructor(options: NodeAgentOptions) {
    this.options = {
      backoffInitialMs: 500,
      backoffMaxMs: 30_000,
      statsIntervalMs: 1000,
      random: Math.random,
      binaryType: 'arraybuffer',
      bulk: false,
      scrubIntervalMs: 60 * 60 * 1000,
      scrubBytesPerSecond: 16 * 1024 * 1024,
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
    if (this.state !== 'stopped' && this.state !== 'rejected') return;
    this.#attempt = 0;
    this.#connect();
    this.#scrubber.start();
  }

  stop(): void {
    this.#scrubber.stop();
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000, 'node stopping');
    this.#setState('stopped');
  }

  async snapshot(): Promise<AgentEvents['stats']> {
    const stats = await this.options.store.stats();
    return { ...stats, capacityBytes: this.options.store.capacityBytes, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
  }

  #connect(): void {
    const url = new URL(NODE_WS_PATH, this.options.gatewayUrl);
    // The gateway's URL may be given as http(s):// or ws(s)://: TLS either way when it says so.
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    this.#setState('connecting');
    let socket: SocketLike;
    try {
      socket = new this.options.WebSocket(url.href);
    } catch (err) {
      this.#log('error', `cannot open ${url.href}: ${toShoalError(err).message}`);
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    this.#bulkSession = null;
    socket.binaryType = this.options.binaryType;
    socket.onopen = () => void this.#sendHello(socket);
    socket.onmessage = (ev) => void this.#onMessage(socket, ev.data);
    socket.onerror = () => {};
    socket.onclose = (ev) => this.#onClose(socket, ev.code, ev.reason);
  }

  async #sendHello(socket: SocketLike): Promise<void> {
    const stats = await this.options.store.stats();
    this.#send(socket, {
      type: 'hello',
      nodeId: this.options.nodeId,
      kind: this.options.kind,
      capacityBytes: this.options.store.capacityBytes,
      usedBytes: stats.usedBytes,
      chunkCount: stats.chunkCount,
      cpu: this.options.cpu,
      version: PROTOCOL_VERSION,
      join: this.#join === undefined ? undefined : { credential: this.#join, verifier: await this.#verifier },
      clusterId: this.#clusterId,
      bulk: this.options.bulk || undefined,
    });
  }

  async #onChallenge(m: ChallengeMessage, socket: SocketLike): Promise<void> {
    const proof = await nodeProof(await this.#verifier, this.options.nodeId, String(m.nonce));
    this.#answerOn(socket)({ type: 'proof', proof });
  }

  async #onMessage(socket: SocketLike, data: unknown): Promise<void> {
    if (socket !== this.#socket) return;
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
    const handler = this.#handlers[header.type] as Handler<GatewayToNode> | undefined;
    if (!handler) {
      this.#answerOn(socket)({ type: 'error', id: (header as { id?: number }).id, code: 'BAD_FRAME', message: `unknown message type ${header.type}` });
      return;
    }
    try {
      await handler(header, frame.payload, socket);
    } catch (err) {
      // Requests answer their own failures; this is the node itself failing (its store cannot be
      // listed): leave, and come back once it can.
      this.#log('error', `${header.type} failed: ${toShoalError(err).message}`);
      socket.close(1011, 'node storage failed');
    }
  }

  async #onWelcome(m: WelcomeMessage, socket: SocketLike): Promise<void> {
    if (this.#clusterId !== undefined && m.clusterId !== this.#clusterId) {
      socket.close(CLOSE.WRONG_CLUSTER, `this node belongs to cluster ${this.#clusterId}, not ${String(m.clusterId)}`);
      return;
    }
    if (this.#clusterId === undefined && typeof m.clusterId === 'string') {
      this.#clusterId = m.clusterId;
      this.#emit('cluster', { clusterId: m.clusterId });
    }
    this.#attempt = 0;
    this.#bulkSession = this.options.bulk && typeof m.bulk === 'string' ? m.bulk : null;
    if (this.#join !== undefined) {
      this.#join = undefined;
      this.#emit('enrolled', { nodeId: this.options.nodeId });
    }
    this.#setState('online');
    this.#log('connect', `connected to ${this.options.gatewayUrl}`);
    const hashes = await this.options.store.list();
    // The gateway learns what is gone from this inventory, by omission.
    this.#missing.clear();
    const answer = this.#answerOn(socket);
    for (let i = 0; i < hashes.length || i === 0; i += INVENTORY_PAGE_SIZE) {
      const page = hashes.slice(i, i + INVENTORY_PAGE_SIZE);
      answer({ type: 'inventory', hashes: page, done: i + INVENTORY_PAGE_SIZE >= hashes.length });
    }
  }

  async #onPut(m: PutMessage, framed: Uint8Array, socket: SocketLike): Promise<void> {
    await this.#serve(socket, m.id, 'put', async (answer) => {
      const payload = m.transfer === undefined ? framed : await this.#fetchTransfer(String(m.transfer));
      await this.options.store.put(m.hash, payload, m.kind === 'manifest' ? 'manifest' : 'chunk');
      this.bytesIn += payload.length;
      answer({ type: 'ok', id: m.id });
      this.#log('put', `stored ${short(m.hash)}`, payload.length);
      this.#statsChanged();
    });
  }

  async #onGet(m: GetMessage, socket: SocketLike): Promise<void> {
    await this.#serve(socket, m.id, 'get', async (answer) => {
      const ranged = m.offset !== undefined || m.length !== undefined;
      const data = ranged ? await this.options.store.getRange(m.hash, Number(m.offset), Number(m.length)) : await this.options.store.get(m.hash);
      this.bytesOut += data.length;
      if (m.transfer === undefined || !(await this.#postTransfer(String(m.transfer), data))) answer({ type: 'data', id: m.id }, data);
      this.#log('get', `served ${short(m.hash)}`, data.length);
    });
  }

  async #onDelete(m: DeleteMessage, socket: SocketLike): Promise<void> {
    await this.#serve(socket, m.id, 'delete', async (answer) => {
      await this.options.store.delete(m.hashes);
      answer({ type: 'ok', id: m.id });
      this.#log('delete', `deleted ${m.hashes.length} chunk(s)`);
      this.#statsChanged();
    });
  }

  async #onListManifests(m: ListManifestsMessage, socket: SocketLike): Promise<void> {
    await this.#serve(socket, m.id, 'list-manifests', async (answer) => {
      const after = typeof m.after === 'string' ? m.after : '';
      const limit = Number.isSafeInteger(m.limit) && m.limit > 0 ? m.limit : INVENTORY_PAGE_SIZE;
      const page = (await this.options.store.listManifests()).filter((hash) => hash > after).sort().slice(0, limit);
      answer({ type: 'data', id: m.id }, new TextEncoder().encode(page.join('')));
    });
  }

  /** A put's chunk, fetched once over HTTP; a failure leaves this session on frames, and the gateway sends it again in one. */
  async #fetchTransfer(transfer: string): Promise<Uint8Array> {
    const session = this.#bulkSession;
    if (session !== null) {
      try {
        const res = await fetch(bulkUrl(this.options.gatewayUrl, session, transfer), { credentials: 'omit', cache: 'no-store' });
        if (res.ok) return new Uint8Array(await res.arrayBuffer());
        await res.body?.cancel();
        this.#bulkFailed(`refused (${res.status})`);
      } catch (err) {
        this.#bulkFailed(`failed (${toShoalError(err).message})`);
      }
    }
    throw new ShoalError('BULK_TRANSFER_FAILED', 'this node could not fetch the chunk over HTTP: send it in a frame');
  }

  /** Whether the gateway took a get's answer over HTTP; if not, this session answers in frames from now on. */
  async #postTransfer(transfer: string, data: Uint8Array): Promise<boolean> {
    const session = this.#bulkSession;
    if (session === null) return false;
    try {
      // A Blob, not the bytes: Chromium uploads an ArrayBuffer body at a few MB/s and a Blob at
      // wire speed (measured: 3 against 90 MiB/s). Its empty type keeps the request free of a CORS
      // preflight from a page on another origin.
      const body = new Blob([data as Uint8Array<ArrayBuffer>]);
      const res = await fetch(bulkUrl(this.options.gatewayUrl, session, transfer), { method: 'POST', body, credentials: 'omit' });
      await res.body?.cancel();
      if (res.ok) return true;
      this.#bulkFailed(`refused (${res.status})`);
    } catch (err) {
      this.#bulkFailed(`failed (${toShoalError(err).message})`);
    }
    return false;
  }

  #bulkFailed(why: string): void {
    this.#bulkSession = null;
    this.#log('error', `chunk transfer ${why}: chunks go over the WebSocket from now on`);
  }

  async #serve(socket: SocketLike, id: number, what: string, work: (answer: Answer) => Promise<void>): Promise<void> {
    const answer = this.#answerOn(socket);
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

  #onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = null;
    const wasOnline = this.state === 'online';
    if (wasOnline || code === CLOSE.WRONG_CLUSTER) this.#log('disconnect', `disconnected (${code}${reason ? ` ${reason}` : ''})`);
    const final: number[] = [CLOSE.IDENTITY_MISMATCH, CLOSE.NOT_ADMITTED, CLOSE.NOT_ENROLLED, CLOSE.REPLACED, CLOSE.REMOVED, CLOSE.BAD_HELLO];
    if (final.includes(code)) {
      this.#scrubber.stop();
      this.#clearTimers();
      this.#setState('rejected', reason || `closed with ${code}`, code);
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const { backoffInitialMs, backoffMaxMs, random } = this.options;
    // 0.5-1 s, then 1-2 s, ... up to 30 s: the jitter spreads nodes that lost the gateway together.
    const base = Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.#attempt);
    const delay = Math.min(backoffMaxMs, base + random() * base);
    this.#attempt++;
    this.#setState('waiting', `reconnecting in ${Math.round(delay)} ms`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, delay);
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
   * Sends a report of the node's own accord, once welcomed: before that the gateway takes only the
   * handshake, and what a report would say the coming inventory says.
   */
  #reply(header: NodeToGateway, payload?: Uint8Array): void {
    if (this.#socket && this.state === 'online') this.#send(this.#socket, header, payload);
  }

  /**
   * Answers go back on the connection the request came in on, or nowhere: request ids belong to
   * one session, and an answer carried over to the next one could settle an unrelated request.
   */
  #answerOn(socket: SocketLike): Answer {
    return (header, payload) => {
      if (socket === this.#socket) this.#send(socket, header, payload);
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
    this.#emit('state', { state, reason, code });
  }

  #log(kind: AgentActivity['kind'], message: string, bytes?: number): void {
    this.#emit('activity', { at: Date.now(), kind, message, bytes });
  }

  #emit<K extends keyof AgentEvents>(event: K, value: AgentEvents[K]): void {
    for (const listener of this.#listeners[event]) listener(value);
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#statsTimer) clearTimeout(this.#statsTimer);
    if (this.#missingTimer) clearTimeout(this.#missingTimer);
    this.#retryTimer = null;
    this.#statsTimer = null;
    this.#missingTimer = null;
  }
}

function short(hash: string): string {
  return hash.slice(0, 12);
}
