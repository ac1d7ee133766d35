import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { toShoalError } from '../../../shared/errors.ts';
import type { HelloMessage } from '../../../shared/protocol.ts';
import { CLOSE, decodeFrame, isNodeId, MAX_CHUNK_BYTES, MAX_HEADER_BYTES, PROTOCOL_VERSION } from '../../../shared/protocol.ts';
import { sha256Hex } from '../../sha256.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { isCount, NodeLink, toBytes, type NodeLinkListener } from './node-link.ts';
import type { NodeRegistry } from './node-registry.ts';

/** What the gateway does with what nodes report about their own storage. */
export interface NodeReports {
  /** A node's full inventory is in: reconcile it with the metadata before the node serves. */
  inventory(link: NodeLink, hashes: string[]): Promise<void>;
  /** A node's scrub found chunks damaged. */
  corrupt(link: NodeLink, hashes: string[]): Promise<void>;
}

export interface NodeServerOptions {
  heartbeatMs: number;
  offlineAfterMs: number;
  helloTimeoutMs: number;
  requestTimeoutMs: number;
  maxInFlightDisk: number;
  maxInFlightBrowser: number;
}

/**
 * Accepts node connections on the shared HTTP server: runs the handshake (a well-formed hello, an
 * identity the metadata agrees with), hands the socket to a NodeLink in the registry, and keeps
 * every link alive with pings, closing those that stop answering.
 */
export class NodeServer implements NodeLinkListener {
  readonly #wss: WebSocketServer;
  readonly #registry: NodeRegistry;
  readonly #metadata: MetadataStore;
  readonly #reports: NodeReports;
  readonly #options: NodeServerOptions;
  readonly #heartbeat: ReturnType<typeof setInterval>;

  constructor(registry: NodeRegistry, metadata: MetadataStore, reports: NodeReports, options: NodeServerOptions) {
    this.#registry = registry;
    this.#metadata = metadata;
    this.#reports = reports;
    this.#options = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CHUNK_BYTES + MAX_HEADER_BYTES + 4 });
    this.#wss.on('connection', (socket) => this.#accept(socket));
    this.#heartbeat = setInterval(() => this.#checkLiveness(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  async inventory(link: NodeLink, hashes: string[]): Promise<void> {
    // A reconciliation that fails (the store busy) must not keep the node out: the next sweep
    // and the node's next reports repair what it missed.
    await this.#reports.inventory(link, hashes).catch(() => {});
    await this.#registry.joined(link);
  }

  async corrupt(link: NodeLink, hashes: string[]): Promise<void> {
    await this.#reports.corrupt(link, hashes).catch(() => {});
  }

  stats(link: NodeLink): void {
    this.#registry.stats(link);
  }

  closed(link: NodeLink): void {
    this.#registry.closed(link);
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const link of this.#registry.links()) link.close(CLOSE.SHUTDOWN, 'gateway shutting down');
    this.#wss.close();
  }

  #accept(socket: WebSocket): void {
    // Not BAD_HELLO: a node that was merely slow to start should try again, not give up.
    const helloTimer = setTimeout(() => socket.close(CLOSE.PROTOCOL_ERROR, 'no hello in time'), this.#options.helloTimeoutMs);
    let answered = false;
    const onHello = async (data: RawData, isBinary: boolean): Promise<void> => {
      try {
        // A node waits for welcome before it says anything else: a second frame is not a node speaking.
        if (answered) throw new Error('frame before welcome');
        answered = true;
        clearTimeout(helloTimer);
        if (!isBinary) throw new Error('text frames are not part of the protocol');
        const hello = decodeFrame(toBytes(data), 0).header as HelloMessage;
        const problem = helloProblem(hello);
        if (problem) throw new Error(problem);
        await this.#admit(socket, hello, () => socket.off('message', onHello));
      } catch (err) {
        socket.close(CLOSE.BAD_HELLO, toShoalError(err).message.slice(0, 120));
      }
    };
    socket.on('message', onHello);
    socket.on('close', () => clearTimeout(helloTimer));
    socket.on('error', () => socket.terminate());
  }

  async #admit(socket: WebSocket, hello: HelloMessage, handOver: () => void): Promise<void> {
    const tokenHash = sha256Hex(hello.token);
    const known = await this.#metadata.getNode(hello.nodeId);
    if (known && known.tokenHash !== tokenHash) {
      socket.close(CLOSE.IDENTITY_MISMATCH, `node id ${hello.nodeId} belongs to another node`);
      return;
    }
    if (socket.readyState !== socket.OPEN) return;
    const now = new Date().toISOString();
    await this.#metadata.upsertNode({
      id: hello.nodeId,
      kind: hello.kind,
      capacityBytes: hello.capacityBytes,
      usedBytes: hello.usedBytes,
      chunkCount: hello.chunkCount,
      cpu: hello.cpu ?? null,
      tokenHash,
      createdAt: known?.createdAt ?? now,
      lastSeenAt: now,
      draining: known?.draining ?? false,
    });
    handOver();
    const link = new NodeLink(socket, hello, known?.draining ?? false, this, {
      maxInFlight: hello.kind === 'browser' ? this.#options.maxInFlightBrowser : this.#options.maxInFlightDisk,
      requestTimeoutMs: this.#options.requestTimeoutMs,
    });
    // The new session takes the id before the old one closes, so the old one's end is no departure.
    const previous = this.#registry.link(hello.nodeId);
    this.#registry.add(link);
    previous?.close(CLOSE.REPLACED, 'replaced by a newer session of the same node');
    link.send({ type: 'welcome', heartbeatMs: this.#options.heartbeatMs });
  }

  #checkLiveness(): void {
    const deadline = Date.now() - this.#options.offlineAfterMs;
    for (const link of this.#registry.links()) {
      if (link.lastPongAt < deadline) link.terminate();
      else link.ping();
    }
  }
}

function helloProblem(header: HelloMessage): string | null {
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
