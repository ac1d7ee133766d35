import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import WebSocket from 'ws';
import type { ChunkKind } from '../../shared/chunk-store.ts';
import { MemoryChunkStore } from '../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor, type SocketLike } from '../../shared/node-agent.ts';
import { waitFor } from '../testing/cluster.ts';
import { ScriptedGateway } from '../testing/scripted-gateway.ts';
import { sha256Hex } from '../sha256.ts';

const MiB = 1024 * 1024;
const BUDGET = 8 * MiB;
const PUTS = 64;

/** A disk that takes each chunk only when the test lets it, and keeps count of the bytes handed to it at once. */
class HeldDisk extends MemoryChunkStore {
  holding = 0;
  most = 0;
  #open = false;
  readonly #opened: Array<() => void> = [];

  override async put(hash: string, data: Uint8Array, kind?: ChunkKind): Promise<void> {
    this.holding += data.length;
    this.most = Math.max(this.most, this.holding);
    try {
      if (!this.#open) await new Promise<void>((resolve) => this.#opened.push(resolve));
      await super.put(hash, data, kind);
    } finally {
      this.holding -= data.length;
    }
  }

  open(): void {
    this.#open = true;
    for (const resolve of this.#opened.splice(0)) resolve();
  }
}

/** A browser's WebSocket as far as the agent can tell: no pause. */
class UnpausableSocket implements SocketLike {
  readonly #socket: WebSocket;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;

  constructor(url: string) {
    this.#socket = new WebSocket(url);
    this.#socket.binaryType = 'arraybuffer';
    this.#socket.onopen = (ev) => this.onopen?.(ev);
    this.#socket.onmessage = (ev) => this.onmessage?.(ev);
    this.#socket.onclose = (ev) => this.onclose?.(ev);
    this.#socket.onerror = (ev) => this.onerror?.(ev);
  }

  get binaryType(): string {
    return this.#socket.binaryType;
  }

  set binaryType(_type: string) {}

  get readyState(): number {
    return this.#socket.readyState;
  }

  send(data: Uint8Array): void {
    this.#socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}

/**
 * A gateway that has passed its proof sends 64 puts of 1 MiB at once, ignoring any window, while
 * the node's disk is slow: the node must not take in more than its budget (8 MiB here) and a
 * chunk. Once the disk catches up, what it took is stored and answered.
 */
async function flood(WebSocketClass: SocketConstructor, binaryType: string) {
  const nodeId = 'node-under-flood';
  const token = 'token-of-node-under-flood';
  const gateway = await ScriptedGateway.start({ nodeId, token });
  const disk = new HeldDisk(1e9);
  const agent = new NodeAgent({ gatewayUrl: gateway.url, nodeId, token, kind: 'disk', store: disk, WebSocket: WebSocketClass, binaryType, putBudgetBytes: BUDGET });
  try {
    agent.start();
    const session = await gateway.session();
    const chunk = new Uint8Array(MiB).fill(7);
    const hash = sha256Hex(chunk);
    for (let id = 1; id <= PUTS; id++) session.send({ type: 'put', id, hash }, chunk);
    await waitFor(() => disk.holding >= BUDGET, 30_000, 'the node to take in its budget');
    // Time for the rest of the flood to arrive, were the node still reading it.
    await sleep(500);
    const most = disk.most;
    disk.open();
    const answers = await Promise.all(Array.from({ length: PUTS }, (_, i) => session.answer(i + 1)));
    return { most, answers };
  } finally {
    agent.stop();
    await gateway.close();
  }
}

test('a disk node stops reading a gateway that sends puts past its byte budget, and takes the rest once its disk catches up', { timeout: 60_000 }, async () => {
  const { most, answers } = await flood(WebSocket as unknown as SocketConstructor, 'fragments');
  assert.ok(most <= BUDGET + MiB, `the node held ${most / MiB} MiB of puts at once`);
  assert.deepEqual(
    answers.map((answer) => answer.type),
    answers.map(() => 'ok'),
  );
});

test('a node that cannot pause its socket (a tab) refuses puts past its byte budget as NODE_BUSY, and takes those within it', { timeout: 60_000 }, async () => {
  const { most, answers } = await flood(UnpausableSocket, 'arraybuffer');
  assert.ok(most <= BUDGET + MiB, `the node held ${most / MiB} MiB of puts at once`);
  const taken = answers.filter((answer) => answer.type === 'ok').length;
  assert.ok(taken >= BUDGET / MiB, `only ${taken} puts within the budget taken`);
  for (const answer of answers.filter((a) => a.type !== 'ok')) assert.equal(answer.type === 'error' && answer.code, 'NODE_BUSY');
});

/**
 * Liveness is the gateway's WebSocket ping, answered by the node's socket as it reads: a socket the
 * put budget has paused answers none. An honest gateway whose put merely arrived while the budget
 * was spent (five gateways' full windows of 4 MiB chunks pass 128 MiB) then hears nothing for as
 * long as the disk takes, and past offlineAfterMs (15 s) drops a node that is only busy.
 */
test('a node held past its put budget by a slow disk still answers its gateways\' pings', { timeout: 60_000 }, async () => {
  const nodeId = 'node-on-slow-disk';
  const token = 'token-of-node-on-slow-disk';
  const gateway = await ScriptedGateway.start({ nodeId, token });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let taken = 0;
  const disk = new (class extends MemoryChunkStore {
    override async put(...args: Parameters<MemoryChunkStore['put']>): Promise<void> {
      taken++;
      await held;
      await super.put(...args);
    }
  })(1e9);
  const agent = new NodeAgent({ gatewayUrl: gateway.url, nodeId, token, kind: 'disk', store: disk, WebSocket: WebSocket as unknown as SocketConstructor, binaryType: 'fragments', putBudgetBytes: BUDGET });
  try {
    agent.start();
    const session = await gateway.session();
    const chunk = new Uint8Array(MiB).fill(3);
    const hash = sha256Hex(chunk);
    // An honest window just past the budget: nine puts of 1 MiB against 8 MiB.
    for (let id = 1; id <= BUDGET / MiB + 1; id++) session.send({ type: 'put', id, hash }, chunk);
    await waitFor(() => taken > BUDGET / MiB, 30_000, 'the node to take in its budget and one more');
    // A pong needs no disk, only a turn of the node's event loop: ten seconds is no race.
    const answered = await Promise.race([session.ping().then(() => true), sleep(10_000).then(() => false)]);
    release();
    assert.ok(answered, 'the node answered no ping while its disk was busy');
  } finally {
    release();
    agent.stop();
    await gateway.close();
  }
});
