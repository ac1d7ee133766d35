import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { toShoalError } from '../../../shared/errors.ts';
import { isChunkHash } from '../../../shared/hash.ts';
import { gatewayProof, nodeProof } from '../../../shared/node-proof.ts';
import type { HelloMessage, ProofMessage } from '../../../shared/protocol.ts';
import { CLOSE, decodeFrame, encodeFrame, isNodeId, MAX_HEADER_BYTES, PROTOCOL_VERSION } from '../../../shared/protocol.ts';
import type { MetadataStore, NodeRecord } from '../metadata/metadata-store.ts';
import type { BrowserOrigins } from '../browser-origin.ts';
import type { Admission } from './admission.ts';
import type { BulkTransfers } from './bulk-transfers.ts';
import type { GatewayAnnouncer } from './gateway-announcer.ts';
import { closeSession, stopReadingAfterError, trackTransport } from './close-session.ts';
import { isCount, NodeLink, toBytes, type NodeLinkListener } from './node-link.ts';
import type { NodeRegistry } from './node-registry.ts';
import { SilenceDeadline } from './silence-deadline.ts';

/** What the gateway does with what nodes report about their own storage. */
export interface NodeReports {
  /** The node is about to list what it holds: the copies recorded on it are read first. */
  expectInventory(link: NodeLink): Promise<void>;
  /** A page of a node's inventory, in order: reconciled with the metadata by the last (`done`), before the node serves. */
  inventory(link: NodeLink, hashes: string[], done: boolean): Promise<void>;
  /** A node no longer holds these chunks: its scrub found them damaged, or they went `missing` from its storage. */
  corrupt(link: NodeLink, hashes: string[], missing: boolean): Promise<void>;
  /** A node's session ended, maybe mid-inventory. */
  left(link: NodeLink): void;
}

/** What a node may send before it is welcomed: a hello and a proof are well under 1 KiB. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;

export interface NodeServerOptions {
  clusterId: string;
  /** A node of another cluster knocked: told before it is refused. */
  onForeignCluster: (nodeId: string, clusterId: string) => void;
  /** Which browser pages may connect nodes: the gateway's own, and those configured. */
  origins: BrowserOrigins;
  heartbeatMs: number;
  offlineAfterMs: number;
  helloTimeoutMs: number;
  requestTimeoutMs: number;
  maxInFlightDisk: number;
  maxInFlightBrowser: number;
  /**
   * The largest chunk a frame from a welcomed node may carry: the larger of --chunk-size and the
   * largest chunk size of the files stored. ws refuses a longer frame from its header, before
   * buffering any of it.
   */
  maxChunkBytes: number;
  /** Where the HTTP transfers (BULK_PATH) of nodes that offer them are kept; without it, every chunk goes in frames. */
  bulk?: BulkTransfers;
  /** Which gateways the cluster has, for nodes that link to every one; without it, they are told of none. */
  gateways?: GatewayAnnouncer;
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
  readonly #admission: Admission;
  readonly #options: NodeServerOptions;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #silence: SilenceDeadline;

  constructor(registry: NodeRegistry, metadata: MetadataStore, admission: Admission, reports: NodeReports, options: NodeServerOptions) {
    this.#registry = registry;
    this.#metadata = metadata;
    this.#admission = admission;
    this.#reports = reports;
    this.#options = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 4 + MAX_HEADER_BYTES + options.maxChunkBytes });
    this.#silence = new SilenceDeadline(options.heartbeatMs, options.offlineAfterMs);
    this.#heartbeat = setInterval(() => this.#checkLiveness(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /**
   * Browsers send the page's Origin with a WebSocket: only the gateway's own pages and the origins
   * configured may make a tab a node, so a page elsewhere cannot recruit its visitors' browsers.
   * Until a node is welcomed, what it may send is a few KiB: a stranger cannot make the gateway
   * buffer a chunk-sized frame. A tab whose page another gateway of the cluster served links to
   * this one too.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (origin !== undefined && !this.#options.origins.allows(origin, host) && !(this.#options.origins.servesHost(host) && this.#options.gateways?.servesPagesOf(origin))) {
      // Gone once the answer is out, as ws ends the upgrades it refuses: the HTTP server no longer
      // tracks an upgraded socket, and one a client keeps open would keep the gateway from stopping.
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\norigin ${origin.slice(0, 100)} may not connect nodes\n`);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      trackTransport(ws, socket);
      let received = 0;
      const count = (chunk: Buffer): void => {
        received += chunk.length;
        if (received <= MAX_HANDSHAKE_BYTES) return;
        socket.off('data', count);
        closeSession(ws, CLOSE.BAD_HELLO, `more than ${MAX_HANDSHAKE_BYTES} bytes before the welcome`, { stopReading: true });
      };
      socket.on('data', count);
      this.#accept(ws, host, () => socket.off('data', count));
    });
  }

  async inventory(link: NodeLink, hashes: string[], done: boolean): Promise<void> {
    // A reconciliation that fails (the store busy) must not keep the node out: the next sweep
    // and the node's next reports repair what it missed.
    await this.#reports.inventory(link, hashes, done).catch(() => {});
    if (done) await this.#registry.joined(link);
  }

  async corrupt(link: NodeLink, hashes: string[], missing: boolean): Promise<void> {
    await this.#reports.corrupt(link, hashes, missing).catch(() => {});
  }

  stats(link: NodeLink): void {
    this.#registry.stats(link);
  }

  closed(link: NodeLink): void {
    this.#reports.left(link);
    this.#registry.closed(link);
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const link of this.#registry.links()) link.close(CLOSE.SHUTDOWN, 'gateway shutting down');
    for (const socket of this.#wss.clients) {
      // Sessions closed for sending too much are no longer read, so they would hold the server open
      // until ws's close timeout: their close frame went out long ago.
      if (socket.isPaused) socket.terminate();
      // A node halfway through its handshake would otherwise be welcomed once it proves itself, into
      // a link nothing closes any more, holding the server (and the process) open for good.
      else if (socket.readyState === socket.OPEN) socket.close(CLOSE.SHUTDOWN, 'gateway shutting down');
    }
    this.#wss.close();
  }

  /** `host`: the Host the node's request named, which a node that links to every gateway binds its proof to. */
  #accept(socket: WebSocket, host: string | undefined, handedOver: () => void): void {
    // Not BAD_HELLO: a node that was merely slow to start should try again, not give up.
    const timer = setTimeout(() => socket.close(CLOSE.PROTOCOL_ERROR, 'no hello in time'), this.#options.helloTimeoutMs);
    const handshake = new Handshake();
    const onFrame = async (data: RawData, isBinary: boolean): Promise<void> => {
      try {
        if (!isBinary) throw new HandshakeRefusal(CLOSE.BAD_HELLO, 'text frames are not part of the protocol');
        const step = handshake.next(decodeFrame(toBytes(data), 0).header);
        if (step.type === 'hello') {
          await this.#challenge(socket, step.hello, handshake, host);
        } else {
          await this.#verify(step.hello, step.record, handshake.nonce, step.proof);
          // Read again: the node chose how long to wait before its proof, and meanwhile it may
          // have been removed, quarantined or drained. Its session must not undo any of that.
          const current = await this.#metadata.getNode(step.hello.nodeId);
          if (!current || current.tokenHash !== step.record.tokenHash) {
            throw new HandshakeRefusal(CLOSE.NOT_ENROLLED, `node ${step.hello.nodeId} is no longer enrolled in this cluster`);
          }
          clearTimeout(timer);
          socket.off('message', onFrame);
          handedOver();
          await this.#admit(socket, step.hello, current);
        }
      } catch (err) {
        clearTimeout(timer);
        // Whatever follows a refusal is not read as a handshake: a hello after a bad frame enrols nobody.
        socket.off('message', onFrame);
        const refusal = err instanceof HandshakeRefusal ? err : new HandshakeRefusal(CLOSE.BAD_HELLO, toShoalError(err).message);
        closeSession(socket, refusal.code, refusal.message);
      }
    };
    socket.on('message', onFrame);
    socket.on('close', () => clearTimeout(timer));
    // Ending the socket at once could lose the close frame ws has just sent.
    socket.on('error', () => stopReadingAfterError(socket));
  }

  /**
   * Enrols a new node that brought a join credential, then asks any node to prove who it is. A
   * node that links to every gateway is answered with this gateway's own proof, for the host it
   * says it dialed, which must be this gateway's: a node that dialed another name may be talking
   * to someone who relays it here, who must not pass on this gateway's proof as its own.
   */
  async #challenge(socket: WebSocket, hello: HelloMessage, handshake: Handshake, host: string | undefined): Promise<void> {
    const { clusterId } = this.#options;
    if (hello.clusterId !== undefined && hello.clusterId !== clusterId) {
      this.#options.onForeignCluster(hello.nodeId, hello.clusterId);
      throw new HandshakeRefusal(CLOSE.WRONG_CLUSTER, `node ${hello.nodeId} belongs to cluster ${hello.clusterId}; this gateway serves cluster ${clusterId}`);
    }
    const dialed = hello.gateway?.host;
    if (dialed !== undefined && !(await this.#dialedHere(dialed, host))) {
      throw new HandshakeRefusal(CLOSE.MISDIRECTED, `node ${hello.nodeId} dialed ${dialed.slice(0, 100)}, which is not this gateway`);
    }
    let record = await this.#metadata.getNode(hello.nodeId);
    if (!record && hello.join) {
      const result = await this.#admission.enrol(hello, hello.join);
      if (result === 'not-admitted') throw new HandshakeRefusal(CLOSE.NOT_ADMITTED, 'the join credential is not valid: it is wrong, expired, revoked or used up');
      record = await this.#metadata.getNode(hello.nodeId);
    }
    if (!record) {
      throw new HandshakeRefusal(CLOSE.NOT_ENROLLED, `node ${hello.nodeId} is not enrolled in this cluster: create it with shoal node create, or join with an invite`);
    }
    handshake.challenged(record);
    const proof = hello.gateway && (await gatewayProof(record.tokenHash, hello.nodeId, handshake.nonce, hello.gateway));
    if (socket.readyState === socket.OPEN) socket.send(encodeFrame({ type: 'challenge', nonce: handshake.nonce, proof }));
  }

  /**
   * A node dials the gateways it was told of by the directory's URL for each, this one's host; the
   * gateway it was given, by whatever name it was given, which the Host header names too. A
   * stranger relaying a node here sets that header as it likes, so a Host naming another gateway
   * of the directory (the stranger's row) is no name of this one.
   */
  async #dialedHere(dialed: string, host: string | undefined): Promise<boolean> {
    const gateways = this.#options.gateways;
    if (gateways?.ownHost() === dialed) return true;
    return dialed === host?.toLowerCase() && !(await gateways?.namesAnother(dialed));
  }

  async #verify(hello: HelloMessage, record: NodeRecord, nonce: string, proof: string): Promise<void> {
    const expected = Buffer.from(await nodeProof(record.tokenHash, hello.nodeId, nonce, hello.gateway));
    const given = Buffer.from(proof);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HandshakeRefusal(CLOSE.IDENTITY_MISMATCH, `node id ${hello.nodeId} belongs to another node`);
    }
  }

  async #admit(socket: WebSocket, hello: HelloMessage, known: NodeRecord): Promise<void> {
    if (socket.readyState !== socket.OPEN) return;
    const now = new Date().toISOString();
    const transfers = hello.bulk === true ? this.#options.bulk : undefined;
    const bulk = transfers && { transfers, session: transfers.newSession() };
    const link = new NodeLink(socket, hello, known.draining, this, {
      maxInFlight: hello.kind === 'browser' ? this.#options.maxInFlightBrowser : this.#options.maxInFlightDisk,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      maxChunkBytes: this.#options.maxChunkBytes,
      traffic: this.#registry.traffic.of(hello.nodeId),
      bulk,
    });
    link.quarantine = known.quarantine;
    // The new session takes the id before the old one closes, so the old one's end is no departure.
    const previous = this.#registry.link(hello.nodeId);
    this.#registry.add(link);
    previous?.close(CLOSE.REPLACED, 'replaced by a newer session of the same node');
    // What the node holds is told against the copies recorded before it starts listing them: a
    // copy another gateway records meanwhile was stored before it, so it is in the inventory.
    await this.#reports.expectInventory(link).catch(() => {});
    const gateways = hello.gateway && this.#options.gateways;
    link.send({
      type: 'welcome',
      heartbeatMs: this.#options.heartbeatMs,
      clusterId: this.#options.clusterId,
      bulk: bulk?.session,
      ...(gateways ? { gatewayId: gateways.selfId, gateways: gateways.current() } : {}),
    });
    // Only what the session itself reports: never the identity, draining or quarantine, and never a row that is gone.
    this.#metadata
      .recordSession(hello.nodeId, {
        kind: hello.kind,
        capacityBytes: hello.capacityBytes,
        usedBytes: hello.usedBytes,
        chunkCount: hello.chunkCount,
        cpu: hello.cpu ?? null,
        lastSeenAt: now,
      })
      .catch(() => {});
  }

  #checkLiveness(): void {
    const deadline = this.#silence.beat();
    for (const link of this.#registry.links()) {
      if (link.lastPongAt < deadline) link.terminate();
      else link.ping();
    }
  }
}

class HandshakeRefusal extends Error {
  readonly code: number;

  constructor(code: number, reason: string) {
    super(reason);
    this.code = code;
  }
}

type HandshakeStep = { type: 'hello'; hello: HelloMessage } | { type: 'proof'; hello: HelloMessage; record: NodeRecord; proof: string };

/** The two frames a node sends before it is welcomed, in order, each checked before it is used. */
class Handshake {
  readonly nonce = randomBytes(32).toString('hex');
  #hello: HelloMessage | null = null;
  #record: NodeRecord | null = null;
  #state: 'hello' | 'checking' | 'proof' | 'done' = 'hello';

  next(header: unknown): HandshakeStep {
    if (this.#state === 'hello') {
      const problem = helloProblem(header as HelloMessage);
      if (problem) throw new HandshakeRefusal(CLOSE.BAD_HELLO, problem);
      this.#hello = header as HelloMessage;
      this.#state = 'checking';
      return { type: 'hello', hello: this.#hello };
    }
    if (this.#state !== 'proof') throw new HandshakeRefusal(CLOSE.BAD_HELLO, 'a frame before the challenge was answered');
    const proof = header as Partial<ProofMessage>;
    if (proof.type !== 'proof' || typeof proof.proof !== 'string') throw new HandshakeRefusal(CLOSE.BAD_HELLO, 'the challenge must be answered with a proof');
    this.#state = 'done';
    return { type: 'proof', hello: this.#hello!, record: this.#record!, proof: proof.proof };
  }

  challenged(record: NodeRecord): void {
    this.#record = record;
    this.#state = 'proof';
  }
}

function helloProblem(header: HelloMessage): string | null {
  if (header.type !== 'hello') return 'first frame must be hello';
  if (header.version !== PROTOCOL_VERSION) {
    return `protocol version ${header.version} is not ${PROTOCOL_VERSION}: ${Number(header.version) < PROTOCOL_VERSION ? 'upgrade this node' : 'upgrade the gateway'}`;
  }
  if (!isNodeId(header.nodeId)) return 'bad node id';
  if (header.kind !== 'disk' && header.kind !== 'browser') return 'bad node kind';
  if (header.clusterId !== undefined && !(typeof header.clusterId === 'string' && header.clusterId.length <= 64)) return 'bad cluster id';
  if (header.join !== undefined && !(typeof header.join?.credential === 'string' && header.join.credential.length > 0 && header.join.credential.length <= 256 && isChunkHash(header.join.verifier))) {
    return 'bad join request';
  }
  for (const field of ['capacityBytes', 'usedBytes', 'chunkCount'] as const) {
    if (!isCount(header[field])) return `bad ${field}`;
  }
  if (header.cpu !== undefined && !(typeof header.cpu === 'number' && Number.isFinite(header.cpu) && header.cpu >= 0)) return 'bad cpu';
  if (header.bulk !== undefined && typeof header.bulk !== 'boolean') return 'bad bulk';
  if (header.gateway !== undefined && !(typeof header.gateway?.host === 'string' && header.gateway.host.length > 0 && header.gateway.host.length <= 300 && isChunkHash(header.gateway.nonce))) {
    return 'bad gateway challenge';
  }
  return null;
}
