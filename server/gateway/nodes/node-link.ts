import type { RawData, WebSocket } from 'ws';
import type { ChunkKind } from '../../../shared/chunk-store.ts';
import { ShoalError, isErrorCode, toShoalError } from '../../../shared/errors.ts';
import { isChunkHash } from '../../../shared/hash.ts';
import type { GatewayToNode, HelloMessage, NodeKind, NodeToGateway } from '../../../shared/protocol.ts';
import { CLOSE, decodeFrameParts, encodeFrame, INVENTORY_PAGE_SIZE, SEPARATE_PAYLOAD_BYTES } from '../../../shared/protocol.ts';
import { corkForTurn } from '../../lib/cork-for-turn.ts';
import { RateMeter } from '../../lib/rate-meter.ts';
import { Semaphore } from '../../lib/semaphore.ts';
import { TokenBucket } from '../../lib/token-bucket.ts';
import type { BulkTransfers } from './bulk-transfers.ts';
import { closeSession } from './close-session.ts';
import type { LinkTraffic } from './link-traffic.ts';

/**
 * joining: connected, inventory not yet in, so nothing may be placed on it or read from it;
 * online: serves reads and takes new copies; draining: serves reads, takes nothing new;
 * closed: gone, every request to it failed. Apart from the state, a quarantined node is read from
 * but takes nothing new, whether online or draining.
 */
export type LinkState = 'joining' | 'online' | 'draining' | 'closed';

export interface NodeLinkOptions {
  /** Requests outstanding to this node at once: browsers' WebSockets have no backpressure of their own. */
  maxInFlight: number;
  requestTimeoutMs: number;
  /** The largest chunk a data frame may carry: the gateway never asks for one larger. */
  maxChunkBytes: number;
  /** The node's traffic counts, which this session adds to. */
  traffic: LinkTraffic;
  /** For a node that offered it: chunks go over HTTP under this session key instead of in frames. */
  bulk?: { transfers: BulkTransfers; session: string };
}

/** What a link tells the registry about the node's own reports and its end. */
export interface NodeLinkListener {
  /**
   * A page of the node's inventory, one at a time and in order; the last one is `done`. Pages are
   * handed on as they come, never gathered: a node may report any number of hashes.
   */
  inventory(link: NodeLink, hashes: string[], done: boolean): Promise<void>;
  /** The node no longer holds these chunks: its scrub found them damaged, or they went `missing` from its storage. */
  corrupt(link: NodeLink, hashes: string[], missing: boolean): Promise<void>;
  /** The node reported new usage figures. */
  stats(link: NodeLink): void;
  closed(link: NodeLink): void;
}

interface Pending {
  /** Whether the request went out as an HTTP transfer. */
  bulk: boolean;
  resolve: (payload: Uint8Array) => void;
  reject: (err: ShoalError) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Request = Extract<GatewayToNode, { id: number }>;
type RequestBody = Request extends infer M ? (M extends Request ? Omit<M, 'id'> : never) : never;
type Answer = Extract<NodeToGateway, { type: 'ok' | 'data' | 'error' }>;

interface Handler<M extends NodeToGateway> {
  /** The problem with a frame of this type, or null: anything a node sends is untrusted input. */
  check(header: M): string | null;
  /**
   * What a frame of this type spends of the link's control budget. Reports a node sends of its own
   * accord are limited; answers are not, since the window already bounds the requests they settle.
   */
  cost?(header: M): number;
  handle(link: NodeLink, header: M, payload: Uint8Array): Promise<void> | void;
}

type HandlerTable = { [T in Exclude<NodeToGateway['type'], 'hello' | 'proof'>]: Handler<Extract<NodeToGateway, { type: T }>> };

const DELETE_PAGE_SIZE = INVENTORY_PAGE_SIZE;

/**
 * Reports a node may send a second, with a burst of as many: a node agent sends stats at most once
 * a second, names one damaged chunk per corrupt report as fast as its scrub finds them, and at most
 * 50 missing ones a second. A node past it is flooding, and its session is closed.
 */
const CONTROL_BUDGET_PER_SECOND = 100;

/** However often a node reports its usage, the registry hears of it at most this often. */
const STATS_PUBLISH_INTERVAL_MS = 1000;

/** Filled in by NodeLink's static block, where the handlers may reach the link's private members. */
let HANDLERS: HandlerTable;

/** Unique across every link of the process, so no answer can ever match a request of another session. */
let nextRequestId = 1;

/**
 * One connected node, as the gateway sees it. The link owns its socket after the handshake: it
 * sends requests with ids under a window, settles the answers, times out the silent ones, and
 * hands the node's own reports to its listener through one table of handlers by message type.
 */
export class NodeLink {
  readonly id: string;
  readonly kind: NodeKind;
  /** As the node last reported it: less than its hello's when its disk has filled. */
  capacityBytes: number;
  readonly cpu: number | null;
  /** The node links to every gateway of the cluster: it is told where they are. */
  readonly linksEveryGateway: boolean;
  usedBytes: number;
  chunkCount: number;
  /** Bytes promised to uploads in flight, so placement does not overfill a node between stats reports. */
  reservedBytes = 0;
  /** performance.now() of the last pong: a monotonic time, so a wall clock stepped back cannot keep a silent node alive. */
  lastPongAt = performance.now();
  readonly writeRate = new RateMeter();
  readonly readRate = new RateMeter();
  #state: LinkState = 'joining';
  /** Whether the node is to drain once it has joined; the admin's choice, kept in the metadata. */
  #drainOnJoin: boolean;
  readonly #socket: WebSocket;
  readonly #options: NodeLinkOptions;
  readonly #listener: NodeLinkListener;
  readonly #window: Semaphore;
  readonly #pending = new Map<number, Pending>();
  readonly #controlBudget = new TokenBucket(CONTROL_BUDGET_PER_SECOND);
  #statsTimer: ReturnType<typeof setTimeout> | null = null;
  #statsPublishedAt = 0;
  /** A session reports its inventory once: pages after the last are a protocol error. */
  #inventoryDone = false;
  /**
   * Requests sent in one turn (the manifests of several uploads whose chunks one node acknowledged
   * together) leave in one write.
   */
  readonly #corkForTurn: () => void;
  /** Until a transfer fails: then this session moves every chunk in frames. */
  #bulk: NodeLinkOptions['bulk'];

  constructor(socket: WebSocket, hello: HelloMessage, draining: boolean, listener: NodeLinkListener, options: NodeLinkOptions) {
    this.#socket = socket;
    this.#corkForTurn = corkForTurn(socket);
    this.#options = options;
    this.#listener = listener;
    this.#window = new Semaphore(options.maxInFlight);
    this.#drainOnJoin = draining;
    this.#bulk = options.bulk;
    this.id = hello.nodeId;
    this.kind = hello.kind;
    this.capacityBytes = hello.capacityBytes;
    this.cpu = hello.cpu ?? null;
    this.linksEveryGateway = hello.gateway !== undefined;
    this.usedBytes = hello.usedBytes;
    this.chunkCount = hello.chunkCount;
    socket.on('pong', () => {
      this.lastPongAt = performance.now();
    });
    // A chunk a node sends after its header, as a fragment of its own, is handed on as it came.
    socket.binaryType = 'fragments';
    socket.on('message', (data: RawData, isBinary: boolean) => void this.#receive(data, isBinary));
    socket.on('close', () => this.#markClosed());
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Online or draining: the node's copies can be read. */
  get readable(): boolean {
    return this.#state === 'online' || this.#state === 'draining';
  }

  /** Why the node takes no new copies until an admin clears it, as its record says; null when trusted. */
  quarantine: string | null = null;

  /** Online, not draining, not quarantined: the node takes new copies, and its copies count toward R. */
  get writable(): boolean {
    return this.#state === 'online' && this.quarantine === null;
  }

  get freeBytes(): number {
    return this.capacityBytes - this.usedBytes - this.reservedBytes;
  }

  /** When the last pong came, on the wall clock, for people and the metadata. */
  get lastHeardAt(): string {
    return new Date(Date.now() - (performance.now() - this.lastPongAt)).toISOString();
  }

  /** The inventory is reconciled: the node may now serve. */
  join(): void {
    if (this.#state === 'joining') this.#state = this.#drainOnJoin ? 'draining' : 'online';
  }

  setDraining(draining: boolean): void {
    this.#drainOnJoin = draining;
    if (this.readable) this.#state = draining ? 'draining' : 'online';
  }

  /** Settles only once the link holds no reference to `data`, so the caller may then fill it with other bytes. */
  async put(hash: string, data: Uint8Array, kind: ChunkKind = 'chunk'): Promise<void> {
    this.reservedBytes += data.length;
    try {
      await this.#request({ type: 'put', hash, kind }, data).catch((err: unknown) => {
        if (!(err instanceof ShoalError && err.code === 'BULK_TRANSFER_FAILED')) throw err;
        this.#bulk = undefined;
        return this.#request({ type: 'put', hash, kind }, data);
      });
      this.writeRate.add(data.length);
    } finally {
      this.reservedBytes -= data.length;
    }
  }

  /** The chunk, or with `span` only those bytes of it, which the node does not verify: the caller must. */
  async get(hash: string, span?: { offset: number; length: number }): Promise<Uint8Array> {
    const data = await this.#request(span ? { type: 'get', hash, offset: span.offset, length: span.length } : { type: 'get', hash });
    this.readRate.add(data.length);
    return data;
  }

  /**
   * In pages, so a delete of a whole large file never exceeds the frame header limit. `allowed`
   * runs as each page leaves, after any wait for the window, and stops the delete by throwing:
   * whether the copies may still go may change while it waits.
   */
  async delete(hashes: string[], allowed?: () => void): Promise<void> {
    for (let i = 0; i < hashes.length; i += DELETE_PAGE_SIZE) {
      await this.#request({ type: 'delete', hashes: hashes.slice(i, i + DELETE_PAGE_SIZE) }, undefined, allowed);
    }
  }

  /**
   * The manifests the node says it holds, in pages as large as a frame from it may be. Only hashes
   * past the last one taken count, so a node that repeats itself cannot keep the gateway asking.
   */
  async listManifests(): Promise<string[]> {
    const limit = Math.floor(this.#options.maxChunkBytes / 64);
    const hashes: string[] = [];
    for (;;) {
      const text = new TextDecoder().decode(await this.#request({ type: 'list-manifests', after: hashes.at(-1), limit }));
      const before = hashes.length;
      for (let i = 0; i + 64 <= text.length; i += 64) {
        const hash = text.slice(i, i + 64);
        if (isChunkHash(hash) && hash > (hashes.at(-1) ?? '')) hashes.push(hash);
      }
      if (text.length < limit * 64 || hashes.length === before) return hashes;
    }
  }

  send(header: GatewayToNode): void {
    if (this.#state === 'closed') return;
    const frame = encodeFrame(header);
    this.#options.traffic.framesOut++;
    this.#options.traffic.bytesOut += frame.length;
    this.#socket.send(frame);
  }

  ping(): void {
    if (this.#state !== 'closed') this.#socket.ping();
  }

  close(code: number = CLOSE.SHUTDOWN, reason = 'gateway closing'): void {
    if (this.#state !== 'closed') this.#socket.close(code, reason);
    this.#markClosed();
  }

  terminate(): void {
    this.#socket.terminate();
    this.#markClosed();
  }

  async #receive(data: RawData, isBinary: boolean): Promise<void> {
    // ws hands over what was already on the wire after the close; none of it is acted on.
    if (this.#state === 'closed') return;
    const traffic = this.#options.traffic;
    traffic.framesIn++;
    traffic.bytesIn += byteLength(data);
    try {
      if (!isBinary) throw new Error('text frames are not part of the protocol');
      const { header, payload } = decodeFrameParts(Array.isArray(data) ? data : [toBytes(data)], this.#options.maxChunkBytes);
      // Own properties only: a frame typed `constructor` must not find Object's.
      const handler = Object.hasOwn(HANDLERS, header.type) ? (HANDLERS[header.type as keyof HandlerTable] as Handler<NodeToGateway>) : undefined;
      if (!handler) throw new Error(`unexpected ${header.type} frame`);
      const problem = handler.check(header as NodeToGateway);
      if (problem) throw new Error(problem);
      if (handler.cost && !this.#controlBudget.tryTake(handler.cost(header as NodeToGateway))) {
        this.#refuse(`more than ${CONTROL_BUDGET_PER_SECOND} reports a second`, true);
        return;
      }
      await handler.handle(this, header as NodeToGateway, payload);
    } catch (err) {
      this.#refuse(toShoalError(err).message, false);
    }
  }

  #refuse(reason: string, flooding: boolean): void {
    if (this.#state === 'closed') return;
    this.#options.traffic.errors++;
    closeSession(this.#socket, CLOSE.PROTOCOL_ERROR, reason, { stopReading: flooding });
    this.#markClosed();
  }

  /** The node's own usage figures are kept as they come; the registry hears of them at most once an interval. */
  #statsReported(usedBytes: number, chunkCount: number, capacityBytes: number | undefined): void {
    // Kept in memory while the node is online; written to the metadata when it leaves.
    this.usedBytes = usedBytes;
    this.chunkCount = chunkCount;
    if (capacityBytes !== undefined) this.capacityBytes = capacityBytes;
    if (this.#statsTimer) return;
    const wait = Math.max(0, this.#statsPublishedAt + STATS_PUBLISH_INTERVAL_MS - Date.now());
    this.#statsTimer = setTimeout(() => {
      this.#statsTimer = null;
      this.#statsPublishedAt = Date.now();
      this.#listener.stats(this);
    }, wait);
  }

  #settle(answer: Answer, payload: Uint8Array, viaBulk = false): void {
    const pending = answer.id === undefined ? undefined : this.#pending.get(answer.id);
    if (!pending) return;
    // A get asked over HTTP and answered in a frame: the node's fetch failed, so stop asking it to.
    if (pending.bulk && !viaBulk && answer.type === 'data') this.#bulk = undefined;
    this.#pending.delete(answer.id!);
    clearTimeout(pending.timer);
    if (answer.type === 'error') {
      this.#options.traffic.errors++;
      pending.reject(new ShoalError(isErrorCode(answer.code) ? answer.code : 'INTERNAL', `node ${this.id}: ${answer.message}`));
    } else {
      pending.resolve(payload);
    }
  }

  async #inventoryPage(hashes: string[], done: boolean): Promise<void> {
    if (this.#inventoryDone) throw new Error('inventory after its last page');
    this.#inventoryDone = done;
    await this.#listener.inventory(this, hashes.filter(isChunkHash), done);
  }

  #markClosed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#statsTimer) clearTimeout(this.#statsTimer);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ShoalError('NODE_OFFLINE', `node ${this.id} went offline`));
      this.#pending.delete(id);
    }
    this.#listener.closed(this);
  }

  async #request(request: RequestBody, data?: Uint8Array, allowed?: () => void): Promise<Uint8Array> {
    const release = await this.#window.acquire();
    // Kept here: a failure elsewhere may take this session off transfers while this one is open.
    const bulk = this.#bulk;
    const over = bulk && new AbortController();
    let transfer: string | null = null;
    let sent: Promise<void> | undefined;
    try {
      if (this.#state === 'closed') throw new ShoalError('NODE_OFFLINE', `node ${this.id} is offline`);
      allowed?.();
      const id = nextRequestId++;
      transfer = bulk && over ? this.#openTransfer(bulk, over.signal, id, request, data) : null;
      const body = transfer === null ? request : { ...request, transfer };
      const payload = transfer === null ? data : undefined;
      // The chunk follows its header as a second WebSocket fragment of the same message, so the
      // gateway sends the bytes it holds instead of copying every chunk into a new frame per
      // replica; the node's WebSocket hands over the message's fragments as they came. A small
      // chunk is copied in behind its header instead: one message is one write.
      const separate = payload !== undefined && payload.length >= SEPARATE_PAYLOAD_BYTES;
      // Encoded before anything waits on it: a frame that cannot be built fails this call alone.
      const head = encodeFrame({ ...body, id } as Request, separate ? undefined : payload);
      const answer = new Promise<Uint8Array>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#pending.delete(id);
          this.#options.traffic.errors++;
          reject(new ShoalError('TIMEOUT', `node ${this.id} did not answer ${body.type} within ${this.#options.requestTimeoutMs} ms`));
        }, this.#options.requestTimeoutMs);
        this.#pending.set(id, { bulk: transfer !== null, resolve, reject, timer });
      });
      this.#options.traffic.framesOut++;
      this.#options.traffic.bytesOut += head.length + (separate ? payload!.length : 0);
      this.#corkForTurn();
      if (separate) {
        this.#socket.send(head, { binary: true, fin: false });
        // Until it is written out, or the socket fails, the socket holds the caller's bytes.
        sent = new Promise((resolve) => this.#socket.send(payload, { binary: true, fin: true }, () => resolve()));
      } else {
        this.#socket.send(head);
      }
      return await answer;
    } finally {
      await sent;
      if (transfer !== null) bulk?.transfers.close(transfer);
      over?.abort();
      release();
    }
  }

  /**
   * A transfer for a put's chunk or a get's answer when this session moves chunks over HTTP; null
   * for everything else, small chunks (a frame is cheaper than a request), and when too many
   * transfers are open.
   */
  #openTransfer(bulk: NonNullable<NodeLinkOptions['bulk']>, over: AbortSignal, id: number, request: RequestBody, data: Uint8Array | undefined): string | null {
    const { transfers, session } = bulk;
    const ttl = this.#options.requestTimeoutMs;
    const traffic = this.#options.traffic;
    if (request.type === 'put' && data !== undefined && data.length >= SEPARATE_PAYLOAD_BYTES) {
      // A copy: a response still sending it when the request settles must not see the caller's buffer refilled.
      return transfers.open(session, { direction: 'to-node', data: data.slice(), traffic, over }, ttl);
    }
    if (request.type === 'get' && (request.length === undefined || request.length >= SEPARATE_PAYLOAD_BYTES)) {
      const deliver = (bytes: Uint8Array): void => this.#settle({ type: 'data', id }, bytes, true);
      return transfers.open(session, { direction: 'from-node', maxBytes: Math.min(request.length ?? Infinity, this.#options.maxChunkBytes), deliver, traffic, over }, ttl);
    }
    return null;
  }

  static {
    const answer: Handler<Answer> = {
      check: (h) => (h.type === 'error' ? (h.id === undefined || Number.isSafeInteger(h.id) ? null : 'error with a bad id') : Number.isSafeInteger(h.id) ? null : `${h.type} without an id`),
      handle: (link, h, payload) => link.#settle(h, payload),
    };
    HANDLERS = {
      ok: answer,
      data: answer,
      error: answer,
      inventory: {
        check: (h) =>
          !Array.isArray(h.hashes) || typeof h.done !== 'boolean'
            ? 'bad inventory'
            : h.hashes.length > INVENTORY_PAGE_SIZE
              ? `inventory page of ${h.hashes.length} hashes exceeds ${INVENTORY_PAGE_SIZE}`
              : null,
        handle: (link, h) => link.#inventoryPage(h.hashes, h.done),
      },
      corrupt: {
        check: (h) => (Array.isArray(h.hashes) && (h.missing === undefined || typeof h.missing === 'boolean') ? null : 'bad corrupt report'),
        // Each chunk named, damaged or missing, is a lost copy to record and announce.
        cost: (h) => Math.max(1, h.hashes.length),
        handle: (link, h) => link.#listener.corrupt(link, h.hashes.filter(isChunkHash), h.missing === true),
      },
      stats: {
        check: (h) => (isCount(h.usedBytes) && isCount(h.chunkCount) && (h.capacityBytes === undefined || isCount(h.capacityBytes)) ? null : 'bad stats'),
        cost: () => 1,
        handle: (link, h) => link.#statsReported(h.usedBytes, h.chunkCount, h.capacityBytes),
      },
    };
  }
}

export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function byteLength(data: RawData): number {
  if (!Array.isArray(data)) return data.byteLength;
  let total = 0;
  for (const part of data) total += part.length;
  return total;
}

export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
