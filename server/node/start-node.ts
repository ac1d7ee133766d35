import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { NodeAgent, type SocketConstructor } from '../../shared/node-agent.ts';
import { corkForTurn } from '../lib/cork-for-turn.ts';
import { MAX_CHUNK_BYTES, MAX_HEADER_BYTES } from '../../shared/protocol.ts';
import { DiskChunkStore } from './disk-chunk-store.ts';
import { loadRememberedGateways, saveRememberedGateways } from './remembered-gateways.ts';

export interface DiskNodeOptions {
  id: string;
  token: string;
  /** For a node the cluster has not enrolled: the join secret or an invite. */
  join?: string;
  gatewayUrl: string;
  dir: string;
  capacityBytes: number;
  cpu?: number;
  scrubIntervalMs?: number;
  scrubBytesPerSecond?: number;
  /** How often the disk's free space is looked at. */
  roomCheckMs?: number;
  /** Chunks up to this many bytes go to packs (0: every chunk a file of its own). */
  packBelow?: number;
}

export interface DiskNode {
  agent: NodeAgent;
  stop(): Promise<void>;
}

/**
 * `ws` as a disk node's socket. Masking (RFC 6455 §10.3) keeps a script in a browser from choosing
 * the bytes a proxy on the way sees; a disk node is no browser, and a zero key, which the RFC's
 * framing allows, lets `ws` skip copying every chunk it sends through the XOR, and the gateway
 * skip undoing it. No compression either: chunks are ciphertext or already dense. A message is
 * at most one frame of the protocol's largest chunk, so `ws` refuses a longer one as it arrives
 * rather than gathering up to its 100 MiB default.
 */
class DiskNodeSocket extends WebSocket {
  /** The answers to every put one pack flush made durable leave in one system call rather than one each. */
  readonly #corkForTurn = corkForTurn(this);

  constructor(url: string) {
    super(url, { perMessageDeflate: false, generateMask: (mask) => void mask.fill(0), maxPayload: 4 + MAX_HEADER_BYTES + MAX_CHUNK_BYTES });
  }

  override send(data: unknown, options?: unknown, cb?: unknown): void {
    this.#corkForTurn();
    (super.send as (data: unknown, options?: unknown, cb?: unknown) => void)(data, options, cb);
  }
}

/** Where a disk node keeps the id of the cluster its chunks belong to, beside them. */
const CLUSTER_FILE = 'cluster-id';
const ROOM_CHECK_MS = 10_000;

/** A storage node on this machine's disk: the shared node agent over a DiskChunkStore. */
export async function startDiskNode(options: DiskNodeOptions): Promise<DiskNode> {
  const store = await DiskChunkStore.open(options.dir, options.capacityBytes, { packBelow: options.packBelow });
  const clusterFile = join(options.dir, CLUSTER_FILE);
  const clusterId = (await readFile(clusterFile, 'utf8').catch(() => '')).trim() || undefined;
  const agent = new NodeAgent({
    gatewayUrl: options.gatewayUrl,
    remembered: await loadRememberedGateways(options.dir),
    nodeId: options.id,
    token: options.token,
    join: options.join,
    clusterId,
    kind: 'disk',
    cpu: options.cpu,
    store,
    WebSocket: DiskNodeSocket as unknown as SocketConstructor,
    binaryType: 'fragments',
    scrubIntervalMs: options.scrubIntervalMs,
    scrubBytesPerSecond: options.scrubBytesPerSecond,
  });
  agent.on('cluster', ({ clusterId: joined }) => void writeFile(clusterFile, `${joined}\n`, { mode: 0o600 }));
  // One write at a time, in order: the last list said is the one kept.
  let saving = Promise.resolve();
  agent.on('gateways', ({ gateways }) => {
    saving = saving.then(() => saveRememberedGateways(options.dir, gateways)).catch(() => {});
  });
  agent.start();
  // The disk's free space changes behind the node's back (other files, or room made after a full
  // disk), so it is looked at now and then and reported when it moves the capacity.
  const roomWatch = setInterval(() => {
    const before = store.capacityBytes;
    void store.stats().then(() => {
      if (store.capacityBytes !== before) agent.reportStats();
    }, () => {});
  }, options.roomCheckMs ?? ROOM_CHECK_MS);
  roomWatch.unref();
  return {
    agent,
    async stop() {
      clearInterval(roomWatch);
      agent.stop();
      await store.close?.();
    },
  };
}
