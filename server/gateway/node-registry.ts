import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { NodeInfo } from '../../shared/api-types.ts';
import { toShoalError } from '../../shared/errors.ts';
import { isChunkHash } from '../../shared/hash.ts';
import type { HelloMessage, NodeToGateway } from '../../shared/protocol.ts';
import { CLOSE, decodeFrame, MAX_HEADER_BYTES, PROTOCOL_VERSION } from '../../shared/protocol.ts';
import type { EventBus } from './events.ts';
import type { MetadataStore, NodeRecord } from './metadata-store.ts';
import { NodeLink } from './node-link.ts';

/** A node as /api/nodes shows it, less the chunk counts that come from the metadata. */
export type NodeView = Omit<NodeInfo, 'recordedChunks' | 'atRiskChunks'>;

export interface NodeRegistryOptions {
  heartbeatMs: number;
  offlineAfterMs: number;
  helloTimeoutMs: number;
  requestTimeoutMs: number;
  maxInFlightDisk: number;
  maxInFlightBrowser: number;
  maxChunkBytes: number;
}

/** What the gateway does with what nodes report about their own storage. */
export interface NodeReportHandlers {
  /** A node's full inventory is in: reconcile it with the metadata. */
  inventory(link: NodeLink, hashes: string[]): Promise<void>;
  /** A node's scrub found chunks damaged. */
  corrupt(link: NodeLink, hashes: string[]): Promise<void>;
}

/**
 * Accepts node connections on the shared HTTP server, checks who they are, keeps them alive with
 * pings, and knows at any moment which nodes are online.
 */
export class NodeRegistry {
  readonly #wss: WebSocketServer;
  readonly #links = new Map<string, NodeLink>();
  readonly #metadata: MetadataStore;
  readonly #events: EventBus;
  readonly #options: NodeRegistryOptions;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #reports: NodeReportHandlers = { inventory: async () => {}, corrupt: async () => {} };

  constructor(metadata: MetadataStore, events: EventBus, options: NodeRegistryOptions) {
    this.#metadata = metadata;
    this.#events = events;
    this.#options = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxChunkBytes + MAX_HEADER_BYTES + 4 });
    this.#wss.on('connection', (socket) => this.#accept(socket));
    this.#heartbeat = setInterval(() => this.#checkLiveness(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  onReports(handlers: NodeReportHandlers): void {
    this.#reports = handlers;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  /** Nodes that are connected and have reported their inventory: the ones placement may use. */
  ready(): NodeLink[] {
    return [...this.#links.values()].filter((link) => link.ready);
  }

  get(id: string): NodeLink | undefined {
    const link = this.#links.get(id);
    return link && !link.closed ? link : undefined;
  }

  isOnline(id: string): boolean {
    return this.get(id) !== undefined;
  }

  async views(): Promise<NodeView[]> {
    const records = await this.#metadata.listNodes();
    return records.map((record) => this.#view(record)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async view(id: string): Promise<NodeView | undefined> {
    const record = await this.#metadata.getNode(id);
    return record && this.#view(record);
  }

  /** Closes a node's session for good, e.g. when it is removed from the cluster. */
  disconnect(id: string, code: number, reason: string): void {
    this.#links.get(id)?.close(code, reason);
    this.#links.delete(id);
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const link of this.#links.values()) link.close(CLOSE.SHUTDOWN, 'gateway shutting down');
    this.#links.clear();
    this.#wss.close();
  }

  #view(record: NodeRecord): NodeView {
    const link = this.get(record.id);
    return {
      id: record.id,
      kind: record.kind,
      status: !link ? 'offline' : record.draining ? 'draining' : 'online',
      capacityBytes: link?.capacityBytes ?? record.capacityBytes,
      usedBytes: link?.usedBytes ?? record.usedBytes,
      chunkCount: link?.chunkCount ?? record.chunkCount,
      cpu: record.cpu,
      lastSeenAt: link ? new Date(link.lastPongAt).toISOString() : record.lastSeenAt,
      writeBps: link?.writeRate.perSecond() ?? 0,
      readBps: link?.readRate.perSecond() ?? 0,
    };
  }

  #accept(socket: WebSocket): void {
    const helloTimer = setTimeout(() => socket.close(CLOSE.BAD_HELLO, 'no hello in time'), this.#options.helloTimeoutMs);
    let link: NodeLink | null = null;
    let inventory: string[] = [];
    socket.on('message', async (data: RawData, isBinary: boolean) => {
      let frame;
      try {
        if (!isBinary) throw new Error('text frames are not part of the protocol');
        frame = decodeFrame(toBytes(data), this.#options.maxChunkBytes);
      } catch (err) {
        socket.close(CLOSE.PROTOCOL_ERROR, toShoalError(err).message.slice(0, 120));
        return;
      }
      const header = frame.header as NodeToGateway;
      if (!link) {
        clearTimeout(helloTimer);
        link = await this.#hello(socket, header).catch(() => null);
        return;
      }
      if (link.settle(header, frame.payload)) return;
      if (header.type === 'inventory') {
        inventory.push(...header.hashes.filter(isChunkHash));
        if (header.done) {
          const hashes = inventory;
          inventory = [];
          await this.#reports.inventory(link, hashes).catch(() => {});
          link.ready = !link.closed;
        }
      } else if (header.type === 'corrupt') {
        await this.#reports.corrupt(link, header.hashes.filter(isChunkHash)).catch(() => {});
      } else if (header.type === 'stats') {
        // Kept in memory while the node is online; written to the metadata when it leaves.
        link.usedBytes = header.usedBytes;
        link.chunkCount = header.chunkCount;
        await this.#publish('node.stats', link.id);
      }
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (link) void this.#offline(link);
    });
    socket.on('error', () => socket.terminate());
  }

  async #hello(socket: WebSocket, header: NodeToGateway): Promise<NodeLink | null> {
    const problem = helloProblem(header);
    if (problem) {
      socket.close(CLOSE.BAD_HELLO, problem);
      return null;
    }
    const hello = header as HelloMessage;
    const tokenHash = createHash('sha256').update(hello.token).digest('hex');
    const known = await this.#metadata.getNode(hello.nodeId);
    if (known && known.tokenHash !== tokenHash) {
      socket.close(CLOSE.IDENTITY_MISMATCH, `node id ${hello.nodeId} belongs to another node`);
      return null;
    }
    const previous = this.#links.get(hello.nodeId);
    if (previous) previous.close(CLOSE.REPLACED, 'replaced by a newer session of the same node');
    const kind = hello.kind;
    const link = new NodeLink(socket, hello, {
      maxInFlight: kind === 'browser' ? this.#options.maxInFlightBrowser : this.#options.maxInFlightDisk,
      requestTimeoutMs: this.#options.requestTimeoutMs,
    });
    link.draining = known?.draining ?? false;
    this.#links.set(link.id, link);
    const now = new Date().toISOString();
    await this.#metadata.upsertNode({
      id: link.id,
      kind,
      capacityBytes: link.capacityBytes,
      usedBytes: link.usedBytes,
      chunkCount: link.chunkCount,
      cpu: link.cpu,
      tokenHash,
      createdAt: known?.createdAt ?? now,
      lastSeenAt: now,
      draining: known?.draining ?? false,
    });
    link.send({ type: 'welcome', heartbeatMs: this.#options.heartbeatMs });
    await this.#publish('node.joined', link.id);
    return link;
  }

  async #offline(link: NodeLink): Promise<void> {
    link.markClosed();
    if (this.#links.get(link.id) !== link) return;
    this.#links.delete(link.id);
    await this.#touch(link);
    await this.#publish('node.left', link.id);
  }

  #checkLiveness(): void {
    const deadline = Date.now() - this.#options.offlineAfterMs;
    for (const link of this.#links.values()) {
      if (link.lastPongAt < deadline) {
        link.terminate();
        void this.#offline(link);
      } else {
        link.ping();
      }
    }
  }

  async #touch(link: NodeLink): Promise<void> {
    const record = await this.#metadata.getNode(link.id);
    if (!record) return;
    await this.#metadata.upsertNode({
      ...record,
      usedBytes: link.usedBytes,
      chunkCount: link.chunkCount,
      lastSeenAt: new Date(link.lastPongAt).toISOString(),
    });
  }

  async #publish(type: 'node.joined' | 'node.left' | 'node.stats', id: string): Promise<void> {
    const node = await this.view(id);
    if (node) this.#events.publish({ type, node });
  }
}

const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function helloProblem(header: NodeToGateway): string | null {
  if (header.type !== 'hello') return 'first frame must be hello';
  if (header.version !== PROTOCOL_VERSION) return `protocol version ${header.version} is not ${PROTOCOL_VERSION}`;
  if (typeof header.nodeId !== 'string' || !NODE_ID_RE.test(header.nodeId)) return 'bad node id';
  if (typeof header.token !== 'string' || header.token.length < 16) return 'missing node token';
  if (header.kind !== 'disk' && header.kind !== 'browser') return 'bad node kind';
  for (const field of ['capacityBytes', 'usedBytes', 'chunkCount'] as const) {
    if (!Number.isSafeInteger(header[field]) || header[field] < 0) return `bad ${field}`;
  }
  return null;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
