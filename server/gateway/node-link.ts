import type { WebSocket } from 'ws';
import { ShoalError, isErrorCode } from '../../shared/errors.ts';
import type { GatewayToNode, HelloMessage, NodeKind, NodeToGateway } from '../../shared/protocol.ts';
import { CLOSE, encodeFrame, INVENTORY_PAGE_SIZE } from '../../shared/protocol.ts';
import { RateMeter } from './rate-meter.ts';
import { Semaphore } from './semaphore.ts';

export interface NodeLinkOptions {
  /** Requests outstanding to this node at once: browsers' WebSockets have no backpressure of their own. */
  maxInFlight: number;
  requestTimeoutMs: number;
}

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (err: ShoalError) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Request = Extract<GatewayToNode, { id: number }>;

const DELETE_PAGE_SIZE = INVENTORY_PAGE_SIZE;

/** Unique across every link of the process, so no answer can ever match a request of another session. */
let nextRequestId = 1;
type RequestBody = Request extends infer M ? (M extends Request ? Omit<M, 'id'> : never) : never;

/**
 * One connected node, as the gateway sees it: request/response over the socket with ids, a window
 * on outstanding requests, timeouts, and the node's last reported stats.
 */
export class NodeLink {
  readonly id: string;
  readonly kind: NodeKind;
  readonly capacityBytes: number;
  readonly cpu: number | null;
  usedBytes: number;
  chunkCount: number;
  /** Bytes promised to uploads in flight, so placement does not overfill a node between stats reports. */
  reservedBytes = 0;
  /** A node serves placement only once its inventory is in, so reconciliation sees every chunk it holds. */
  ready = false;
  /** A draining node keeps serving reads but receives no new replicas. */
  draining = false;
  lastPongAt = Date.now();
  readonly writeRate = new RateMeter();
  readonly readRate = new RateMeter();
  readonly #socket: WebSocket;
  readonly #options: NodeLinkOptions;
  readonly #window: Semaphore;
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(socket: WebSocket, hello: HelloMessage, options: NodeLinkOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#window = new Semaphore(options.maxInFlight);
    this.id = hello.nodeId;
    this.kind = hello.kind;
    this.capacityBytes = hello.capacityBytes;
    this.cpu = hello.cpu ?? null;
    this.usedBytes = hello.usedBytes;
    this.chunkCount = hello.chunkCount;
    socket.on('pong', () => {
      this.lastPongAt = Date.now();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get freeBytes(): number {
    return this.capacityBytes - this.usedBytes - this.reservedBytes;
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    this.reservedBytes += data.length;
    try {
      await this.#request({ type: 'put', hash }, data);
      this.writeRate.add(data.length);
    } finally {
      this.reservedBytes -= data.length;
    }
  }

  async get(hash: string): Promise<Uint8Array> {
    const data = await this.#request({ type: 'get', hash });
    this.readRate.add(data.length);
    return data;
  }

  /** In pages, so a delete of a whole large file never exceeds the frame header limit. */
  async delete(hashes: string[]): Promise<void> {
    for (let i = 0; i < hashes.length; i += DELETE_PAGE_SIZE) {
      await this.#request({ type: 'delete', hashes: hashes.slice(i, i + DELETE_PAGE_SIZE) });
    }
  }

  send(header: GatewayToNode): void {
    if (!this.#closed) this.#socket.send(encodeFrame(header));
  }

  ping(): void {
    if (!this.#closed) this.#socket.ping();
  }

  /** Routes a node's answer to the request waiting for it; false when the frame is not an answer. */
  settle(header: NodeToGateway, payload: Uint8Array): boolean {
    if (header.type !== 'ok' && header.type !== 'data' && header.type !== 'error') return false;
    if (header.id === undefined) return false;
    const pending = this.#pending.get(header.id);
    if (!pending) return true;
    this.#pending.delete(header.id);
    clearTimeout(pending.timer);
    if (header.type === 'error') {
      pending.reject(new ShoalError(isErrorCode(header.code) ? header.code : 'INTERNAL', `node ${this.id}: ${header.message}`));
    } else {
      pending.resolve(payload);
    }
    return true;
  }

  close(code: number = CLOSE.SHUTDOWN, reason = 'gateway closing'): void {
    if (!this.#closed) this.#socket.close(code, reason);
    this.markClosed();
  }

  terminate(): void {
    this.#socket.terminate();
    this.markClosed();
  }

  markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ready = false;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ShoalError('NODE_OFFLINE', `node ${this.id} went offline`));
      this.#pending.delete(id);
    }
  }

  async #request(body: RequestBody, payload?: Uint8Array): Promise<Uint8Array> {
    const release = await this.#window.acquire();
    try {
      if (this.#closed) throw new ShoalError('NODE_OFFLINE', `node ${this.id} is offline`);
      const id = nextRequestId++;
      // Encoded before anything waits on it: a frame that cannot be built fails this call alone.
      const head = encodeFrame({ ...body, id } as Request);
      const answer = new Promise<Uint8Array>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(new ShoalError('TIMEOUT', `node ${this.id} did not answer ${body.type} within ${this.#options.requestTimeoutMs} ms`));
        }, this.#options.requestTimeoutMs);
        this.#pending.set(id, { resolve, reject, timer });
      });
      // The chunk follows its header as a second WebSocket fragment of the same message, so the
      // gateway sends the bytes it holds instead of copying every chunk into a new frame per
      // replica; the node's WebSocket hands over the reassembled message as one frame.
      if (payload && payload.length > 0) {
        this.#socket.send(head, { binary: true, fin: false });
        this.#socket.send(payload, { binary: true, fin: true });
      } else {
        this.#socket.send(head);
      }
      return await answer;
    } finally {
      release();
    }
  }
}
