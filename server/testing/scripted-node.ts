import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { ErrorCode } from '../../shared/errors.ts';
import { nodeProof, nodeVerifier } from '../../shared/node-proof.ts';
import type { DeleteMessage, GatewayToNode, GetMessage, NodeKind, NodeToGateway, PutMessage } from '../../shared/protocol.ts';
import { decodeFrame, encodeFrame, INVENTORY_PAGE_SIZE, NODE_WS_PATH, PROTOCOL_VERSION } from '../../shared/protocol.ts';

/** A request the gateway makes of a node, with the chunk a put carries. */
export type NodeRequest = { header: PutMessage | GetMessage | DeleteMessage; payload: Uint8Array };

/** What a scripted node answers to a request; null sends nothing, so the request times out. */
export type ScriptedAnswer = { type: 'ok' } | { type: 'data'; payload: Uint8Array } | { type: 'error'; code: ErrorCode; message?: string } | null;

export interface ScriptedNodeOptions {
  gatewayUrl: string;
  nodeId: string;
  /** The node's secret; what it proves its identity with. */
  token: string;
  /** The cluster's join secret or an invite, for a node not enrolled yet. */
  join?: string;
  kind?: NodeKind;
  capacityBytes?: number;
  usedBytes?: number;
  chunkCount?: number;
  /** Offers HTTP transfers in its hello (HelloMessage.bulk); the session key is then `bulkSession`. */
  bulk?: boolean;
  /** Awaited between the gateway's challenge and the node's proof: a test acts while the handshake is half done. */
  beforeProof?: () => Promise<void>;
  /** Answers put, get and delete; by default puts and deletes are acknowledged and gets find nothing. */
  answer?: (request: NodeRequest) => ScriptedAnswer | Promise<ScriptedAnswer>;
}

/**
 * A storage node whose every word is scripted by a test: it speaks the protocol of
 * shared/protocol.ts over a plain `ws` socket, enrols and proves its identity like a real node,
 * then sends whatever frames the test chooses and answers requests through a callback. For tests of
 * what the gateway does when a node lies, floods or misbehaves in ways the real NodeAgent never would.
 */
export class ScriptedNode {
  readonly nodeId: string;
  /** The session key of the welcome, when the node offered bulk and the gateway took it. */
  bulkSession: string | undefined;
  /** Resolves with how the gateway closed the session. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;
  readonly #verifier: string;
  readonly #answer: NonNullable<ScriptedNodeOptions['answer']>;
  readonly #beforeProof: NonNullable<ScriptedNodeOptions['beforeProof']>;

  private constructor(options: ScriptedNodeOptions, verifier: string, socket: WebSocket) {
    this.nodeId = options.nodeId;
    this.#verifier = verifier;
    this.#answer = options.answer ?? defaultAnswer;
    this.#beforeProof = options.beforeProof ?? (async () => {});
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Connects, enrols or proves its identity, and resolves once welcomed; rejects with the close reason if refused. */
  static async connect(options: ScriptedNodeOptions): Promise<ScriptedNode> {
    const url = new URL(NODE_WS_PATH, options.gatewayUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    // Before the socket exists: its open event must find the listener that sends the hello.
    const verifier = await nodeVerifier(options.token);
    const socket = new WebSocket(url);
    socket.on('error', () => {});
    const node = new ScriptedNode(options, verifier, socket);
    await new Promise<void>((resolve, reject) => {
      void node.closed.then(({ code, reason }) => reject(new Error(`node ${options.nodeId} refused: ${code} ${reason}`)));
      socket.on('open', () => {
        void node.send({
          type: 'hello',
          nodeId: options.nodeId,
          kind: options.kind ?? 'disk',
          capacityBytes: options.capacityBytes ?? 2 ** 30,
          usedBytes: options.usedBytes ?? 0,
          chunkCount: options.chunkCount ?? 0,
          version: PROTOCOL_VERSION,
          join: options.join === undefined ? undefined : { credential: options.join, verifier },
          bulk: options.bulk,
        });
      });
      socket.on('message', (data: Buffer) => {
        const { header, payload } = decodeFrame(data);
        const message = header as GatewayToNode;
        if (message.type === 'welcome') {
          node.bulkSession = message.bulk;
          resolve();
        }
        // A session that ended while an answer was being made leaves nobody to answer.
        void node.#receive(message, payload).catch(() => {});
      });
    });
    return node;
  }

  async #receive(message: GatewayToNode, payload: Uint8Array): Promise<void> {
    if (message.type === 'challenge') {
      await this.#beforeProof();
      await this.send({ type: 'proof', proof: await nodeProof(this.#verifier, this.nodeId, message.nonce) });
    } else if (message.type === 'put' || message.type === 'get' || message.type === 'delete') {
      const reply = await this.#answer({ header: message, payload });
      if (reply?.type === 'data') await this.send({ type: 'data', id: message.id }, reply.payload);
      else if (reply?.type === 'error') await this.send({ type: 'error', id: message.id, code: reply.code, message: reply.message ?? reply.code });
      else if (reply) await this.send({ type: 'ok', id: message.id });
    }
  }

  /** Resolves once the frame is handed to the socket, so a test sending many waits for the network. */
  send(header: NodeToGateway, payload?: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.readyState !== WebSocket.OPEN) return reject(new Error(`node ${this.nodeId} is not connected`));
      this.#socket.send(encodeFrame(header, payload), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Reports `hashes` as held, in pages as a real node does, the last one marked done. */
  async sendInventory(hashes: string[]): Promise<void> {
    for (let i = 0; i < hashes.length || i === 0; i += INVENTORY_PAGE_SIZE) {
      await this.send({ type: 'inventory', hashes: hashes.slice(i, i + INVENTORY_PAGE_SIZE), done: i + INVENTORY_PAGE_SIZE >= hashes.length });
    }
  }

  /** Stops reading the socket, so the node answers nothing, pings included, while its session stays open. */
  goSilent(): void {
    this.#socket.pause();
  }

  async close(): Promise<void> {
    if (this.#socket.readyState !== WebSocket.CLOSED) this.#socket.close(1000, 'scripted node leaving');
    await this.closed;
  }
}

function defaultAnswer({ header }: NodeRequest): ScriptedAnswer {
  return header.type === 'get' ? { type: 'error', code: 'CHUNK_NOT_FOUND' } : { type: 'ok' };
}

/**
 * A node that reports `count` chunks no file needs, as one whose files' metadata was lost would,
 * and acknowledges their deletion: resolves, once its inventory is sent, with the set the gateway
 * has deleted on it so far, which grows as collection goes on.
 */
export async function strayNode(options: { gatewayUrl: string; nodeId: string; join: string; count: number }): Promise<Set<string>> {
  const deleted = new Set<string>();
  const node = await ScriptedNode.connect({
    gatewayUrl: options.gatewayUrl,
    nodeId: options.nodeId,
    token: `token-of-${options.nodeId}-stray`,
    join: options.join,
    chunkCount: options.count,
    answer: (request) => {
      if (request.header.type === 'delete') for (const hash of request.header.hashes) deleted.add(hash);
      return defaultAnswer(request);
    },
  });
  await node.sendInventory(Array.from({ length: options.count }, () => randomBytes(32).toString('hex')));
  return deleted;
}
