import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { NodeInfo } from '../../shared/api-types.ts';
import { toShoalError } from '../../shared/errors.ts';
import { isChunkHash } from '../../shared/hash.ts';
import type { HelloMessage, NodeToGateway } from '../../shared/protocol.ts';
import { CLOSE, decodeFrame, isNodeId, MAX_CHUNK_BYTES, MAX_HEADER_BYTES, PROTOCOL_VERSION } from '../../shared/protocol.ts';
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
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CHUNK_BYTES + MAX_HEADER_BYTES + 4 });
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

  /** Ready nodes that are not draining: the ones that may receive new replicas. */
  writable(): NodeLink[] {
    return this.ready().filter((link) => !link.draining);
  }

  /** A replica on this node counts toward R: the node is ready and not draining. */
  isGood(id: string): boolean {
    const link = this.get(id);
    return Boolean(link?.ready && !link.draining);
  }

  get(id: string): NodeLink | undefined {
    const link = this.#links.get(id);
    return link && !link.closed ? link : undefined;
  }

  /** Online means connected and reconciled: only then is a node shown online and used for placement. */
  isOnline(id: string): boolean {
    return this.get(id)?.ready === true;
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
      status: !link?.ready ? 'offline' : record.draining ? 'draining' : 'online',
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
    // Not BAD_HELLO: a node that was merely slow to start should try again, not give up.
    const helloTimer = setTimeout(() => socket.close(CLOSE.PROTOCOL_ERROR, 'no hello in time'), this.#options.helloTimeoutMs);
    let link: NodeLink | null = null;
    let inventory: string[] = [];
    // Anything a node sends is untrusted input: a frame that is not well-formed ends the session,
    // and no failure in handling one may escape as an unhandled rejection.
    socket.on('message', async (data: RawData, isBinary: boolean) => {
      try {
        if (!isBinary) throw new Error('text frames are not part of the protocol');
        const frame = decodeFrame(toBytes(data), MAX_CHUNK_BYTES);
        const header = frame.header as NodeToGateway;
        const problem = link ? reportProblem(header) : helloProblem(header);
        if (problem) throw new Error(problem);
        if (!link) {
          clearTimeout(helloTimer);
          link = await this.#hello(socket, header as HelloMessage);
          return;
        }
        if (link.settle(header, frame.payload)) return;
        if (header.type === 'inventory') {
          inventory.push(...header.hashes.filter(isChunkHash));
          if (header.done) {
            const hashes = inventory;
            inventory = [];
            await this.#reports.inventory(link, hashes).catch(() => {});
            if (link.closed) return;
            link.ready = true;
            await this.#publish('node.joined', link.id);
          }
        } else if (header.type === 'corrupt') {
          await this.#reports.corrupt(link, header.hashes.filter(isChunkHash)).catch(() => {});
        } else if (header.type === 'stats') {
          // Kept in memory while the node is online; written to the metadata when it leaves.
          link.usedBytes = header.usedBytes;
          link.chunkCount = header.chunkCount;
          await this.#publish('node.stats', link.id);
        }
      } catch (err) {
        socket.close(link ? CLOSE.PROTOCOL_ERROR : CLOSE.BAD_HELLO, toShoalError(err).message.slice(0, 120));
      }
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (link) this.#offline(link).catch(() => {});
    });
    socket.on('error', () => socket.terminate());
  }

  async #hello(socket: WebSocket, hello: HelloMessage): Promise<NodeLink | null> {
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
    this.#links.set(link.id, link);
    link.send({ type: 'welcome', heartbeatMs: this.#options.heartbeatMs });
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
        this.#offline(link).catch(() => {});
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

function helloProblem(header: NodeToGateway): string | null {
  if (header.type !== 'hello') return 'first frame must be hello';
  if (header.version !== PROTOCOL_VERSION) return `protocol version ${header.version} is not ${PROTOCOL_VERSION}`;
  if (!isNodeId(header.nodeId)) return 'bad node id';
  if (typeof header.token !== 'string' || header.token.length < 16) return 'missing node token';
  if (header.kind !== 'disk' && header.kind !== 'browser') return 'bad node kind';
  for (const field of ['capacityBytes', 'usedBytes', 'chunkCount'] as const) {
    if (!isCount(header[field])) return `bad ${field}`;
  }
  if (header.cpu !== undefined && !(typeof header.cpu === 'number' && Number.isFinite(header.cpu) && header.cpu >= 0)) return 'bad cpu';
  return null;
}

/** Checks the shape of every frame a node may send after its hello. */
function reportProblem(header: NodeToGateway): string | null {
  switch (header.type) {
    case 'ok':
    case 'data':
      return Number.isSafeInteger(header.id) ? null : `${header.type} without an id`;
    case 'error':
      return header.id === undefined || Number.isSafeInteger(header.id) ? null : 'error with a bad id';
    case 'inventory':
      return Array.isArray(header.hashes) && typeof header.done === 'boolean' ? null : 'bad inventory';
    case 'corrupt':
      return Array.isArray(header.hashes) ? null : 'bad corrupt report';
    case 'stats':
      return isCount(header.usedBytes) && isCount(header.chunkCount) ? null : 'bad stats';
    default:
      return `unexpected ${(header as { type: string }).type} frame`;
  }
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
