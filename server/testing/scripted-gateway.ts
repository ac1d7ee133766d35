import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { gatewayProof, nodeVerifier } from '../../shared/node-proof.ts';
import type { GatewayToNode, NodeToGateway } from '../../shared/protocol.ts';
import { decodeFrameParts, encodeFrame, NODE_WS_PATH } from '../../shared/protocol.ts';

/** One node's session with a scripted gateway, once the node has been welcomed and sent its inventory. */
export interface ScriptedSession {
  /** Sends a frame without waiting for anything: what a gateway that ignores its window does. */
  send(header: GatewayToNode, payload?: Uint8Array): void;
  /** The node's answer to request `id`. */
  answer(id: number): Promise<NodeToGateway>;
  /** Settles when the node answers a WebSocket ping: what a gateway's liveness check waits for. */
  ping(): Promise<void>;
}

/**
 * A gateway whose every word is scripted by a test: it knows the node's token, as the cluster's
 * gateways know its verifier, so it proves itself and is served like one of them; then it sends
 * whatever frames the test chooses. For tests of what a node does when a proven gateway misbehaves.
 */
export class ScriptedGateway {
  readonly url: string;
  readonly #server: WebSocketServer;
  readonly #sessions: ScriptedSession[] = [];
  readonly #waiting: Array<(session: ScriptedSession) => void> = [];

  private constructor(server: WebSocketServer, nodeId: string, verifier: string) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (socket) => this.#serve(socket, nodeId, verifier));
  }

  static async start(options: { nodeId: string; token: string }): Promise<ScriptedGateway> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: NODE_WS_PATH });
    await new Promise((resolve) => server.once('listening', resolve));
    return new ScriptedGateway(server, options.nodeId, await nodeVerifier(options.token));
  }

  /** The next node session that is welcomed and has told its inventory. */
  session(): Promise<ScriptedSession> {
    const ready = this.#sessions.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => this.#waiting.push(resolve));
  }

  async close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #serve(socket: WebSocket, nodeId: string, verifier: string): void {
    const answers = new Map<number, (answer: NodeToGateway) => void>();
    const early = new Map<number, NodeToGateway>();
    const nonce = 'ab'.repeat(32);
    const session: ScriptedSession = {
      send: (header, payload) => socket.send(encodeFrame(header, payload)),
      answer: (id) => {
        const answered = early.get(id);
        return answered ? Promise.resolve(answered) : new Promise((resolve) => answers.set(id, resolve));
      },
      ping: () =>
        new Promise((resolve) => {
          socket.once('pong', () => resolve());
          socket.ping();
        }),
    };
    socket.binaryType = 'fragments';
    socket.on('message', async (data: RawData) => {
      const header = decodeFrameParts(data as Uint8Array[]).header as NodeToGateway;
      if (header.type === 'hello' && header.gateway) {
        socket.send(encodeFrame({ type: 'challenge', nonce, proof: await gatewayProof(verifier, nodeId, nonce, header.gateway) }));
      } else if (header.type === 'proof') {
        socket.send(encodeFrame({ type: 'welcome', heartbeatMs: 60_000, clusterId: 'scripted-cluster', gatewayId: 'scripted-gateway', gateways: [] }));
      } else if (header.type === 'inventory' && header.done) {
        const waiter = this.#waiting.shift();
        if (waiter) waiter(session);
        else this.#sessions.push(session);
      } else if ((header.type === 'ok' || header.type === 'data' || header.type === 'error') && typeof header.id === 'number') {
        const waiter = answers.get(header.id);
        answers.delete(header.id);
        if (waiter) waiter(header);
        else early.set(header.id, header);
      }
    });
  }
}
