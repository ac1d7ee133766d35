import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import { startDiskNode, type DiskNode } from '../../node/start-node.ts';
import { LiveStatus } from '../live-status.ts';
import { NodeConfigFile, type NodeConfig } from '../node-config.ts';
import { enrolLocally } from '../node-enrolment.ts';
import { isAlive } from '../../lib/is-alive.ts';
import { numberOption, onShutdown, parse, stringOption } from '../options.ts';
import { formatBytes, formatRate, parseDuration, parseSize } from '../units.ts';

const REMOVAL_POLL_MS = 250;
const REMOVAL_WAIT_MS = 15_000;

export async function nodeCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const handler = sub ? SUBCOMMANDS[sub] : undefined;
  if (!handler) throw new ShoalError('BAD_REQUEST', `usage: shoal node create|start|list|drain|trust|remove (got ${sub ?? 'nothing'})`);
  await handler(rest);
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  async create(args) {
    const { values, positionals, dataDir, gatewayUrl } = parse(args, {
      storage: { type: 'string' },
      cpu: { type: 'string' },
      dir: { type: 'string' },
      join: { type: 'string' },
    });
    const [id] = positionals;
    if (!id || positionals.length > 1) {
      throw new ShoalError('BAD_REQUEST', 'usage: shoal node create <id> [--storage 1GB] [--cpu 2] [--gateway URL] [--dir PATH] [--join SECRET|INVITE]');
    }
    const file = new NodeConfigFile(dataDir);
    const join = stringOption(values.join);
    const node = await file.create({
      id,
      gateway: gatewayUrl,
      capacityBytes: parseSize(stringOption(values.storage) ?? '1GB'),
      cpu: numberOption(values.cpu, 'cpu', 2),
      dir: stringOption(values.dir),
      join,
    });
    // A node of a gateway elsewhere enrols with its join credential when it first connects.
    if (join === undefined && !(await enrolLocally(dataDir, node))) {
      await file.remove(id);
      throw new ShoalError('CONFLICT', `node id ${id} is already enrolled in this cluster: pick another id`);
    }
    console.log(`created node ${node.id}: ${formatBytes(node.capacityBytes)} in ${node.dir}, ${node.cpu} cpu, gateway ${node.gateway}`);
    console.log(`start it with: shoal node start ${node.id}`);
  },

  async start(args) {
    const { values, positionals, dataDir } = parse(args, { 'scrub-interval': { type: 'string' }, 'scrub-rate': { type: 'string' }, join: { type: 'string' } });
    if (positionals.length === 0) {
      throw new ShoalError('BAD_REQUEST', 'usage: shoal node start <id...> [--gateway URL] [--scrub-interval 1h] [--scrub-rate 16MiB] [--join SECRET|INVITE]');
    }
    const scrubInterval = stringOption(values['scrub-interval']);
    const scrubRate = stringOption(values['scrub-rate']);
    const scrub = {
      scrubIntervalMs: scrubInterval === undefined ? undefined : parseDuration(scrubInterval),
      scrubBytesPerSecond: scrubRate === undefined ? undefined : parseSize(scrubRate, 'b'),
    };
    const gatewayOverride = stringOption(values.gateway) ?? process.env.SHOAL_GATEWAY;
    const file = new NodeConfigFile(dataDir);
    // A node whose enrolment a gateway elsewhere lost with its metadata joins again with a credential.
    const join = stringOption(values.join);
    const configs = (await Promise.all(positionals.map((id) => file.get(id)))).map((config) => (join === undefined ? config : { ...config, join }));
    const nodes = new NodeProcess(file);
    for (const config of configs) {
      // Nodes created by a release before enrolment existed are enrolled now, the first time they start.
      if (config.join === undefined) await enrolLocally(dataDir, config);
      const node = await startDiskNode({ ...config, ...scrub, gatewayUrl: gatewayOverride ?? config.gateway });
      nodes.add({ config, node });
      node.agent.on('enrolled', () => void file.update(config.id, { join: undefined }));
      await file.update(config.id, { status: 'started', pid: process.pid });
    }
    const status = watchNodes(nodes.running);
    status.start();
    onShutdown(async () => {
      status.stop();
      await nodes.stopAll();
    });
  },

  async list(args) {
    const { dataDir } = parse(args, {});
    const nodes = await new NodeConfigFile(dataDir).list();
    if (nodes.length === 0) {
      console.log(`no nodes in ${dataDir} (create one with: shoal node create node1 --storage 1GB)`);
      return;
    }
    console.log(['ID'.padEnd(14), 'STATUS'.padEnd(8), 'STORAGE'.padEnd(10), 'CPU'.padEnd(4), 'GATEWAY'.padEnd(26), 'DIR'].join(' '));
    for (const n of nodes) {
      const running = n.pid !== undefined && isAlive(n.pid) ? 'running' : n.status === 'started' ? 'stopped' : n.status;
      console.log([n.id.padEnd(14), running.padEnd(8), formatBytes(n.capacityBytes).padEnd(10), String(n.cpu).padEnd(4), n.gateway.padEnd(26), n.dir].join(' '));
    }
  },

  async drain(args) {
    const { values, positionals, gatewayUrl } = parse(args, { 'no-wait': { type: 'boolean' } });
    const [id] = positionals;
    if (!id || positionals.length > 1) throw new ShoalError('BAD_REQUEST', 'usage: shoal node drain <id> [--no-wait]');
    const client = new ShoalClient(gatewayUrl);
    await client.drainNode(id);
    console.log(`draining ${id}: its chunks are being copied to other nodes; it still serves reads`);
    if (values['no-wait']) return;
    let last = -1;
    for (;;) {
      const node = (await client.nodes()).find((n) => n.id === id);
      if (!node) throw new ShoalError('NODE_NOT_FOUND', `node ${id} disappeared while draining`);
      if (node.recordedChunks === 0) break;
      if (node.recordedChunks !== last) console.log(`  ${node.recordedChunks} chunk(s) left on ${id}`);
      last = node.recordedChunks;
      await sleep(500);
    }
    console.log(`${id} is drained and safe to remove: shoal node remove ${id}`);
  },

  async trust(args) {
    const { positionals, gatewayUrl } = parse(args, {});
    const [id] = positionals;
    if (!id || positionals.length > 1) throw new ShoalError('BAD_REQUEST', 'usage: shoal node trust <id>');
    await new ShoalClient(gatewayUrl).trustNode(id);
    console.log(`${id} is trusted again: its quarantine is cleared and it takes new chunks`);
  },

  async remove(args) {
    const { values, positionals, dataDir, gatewayUrl } = parse(args, { force: { type: 'boolean' } });
    const [id] = positionals;
    if (!id || positionals.length > 1) throw new ShoalError('BAD_REQUEST', 'usage: shoal node remove <id> [--force]');
    const force = values.force === true;
    const file = new NodeConfigFile(dataDir);
    const local = (await file.list()).find((n) => n.id === id);
    try {
      await new ShoalClient(local?.gateway ?? gatewayUrl).removeNode(id, { force });
    } catch (err) {
      const e = toShoalError(err);
      const gone = e.code === 'NODE_NOT_FOUND' || e.code === 'NOT_FOUND';
      if (!gone && !(e.code === 'GATEWAY_UNREACHABLE' && force)) {
        throw e.code === 'GATEWAY_UNREACHABLE' ? new ShoalError(e.code, `${e.message} (the gateway must confirm that removing ${id} loses no data; --force skips that)`) : e;
      }
      if (!local) throw e;
    }
    if (local) {
      await stopRunningNode(file, local);
      await file.remove(id).catch(() => {});
      await rm(local.dir, { recursive: true, force: true });
    }
    console.log(`removed node ${id}${local ? ` and its storage ${local.dir}` : ''}`);
  },
};

/**
 * The process running a node may run others too (`shoal node start n1 n2 n3`): removal asks it to
 * stop that node alone, by marking the node `removing`, and waits until it has let go.
 */
async function stopRunningNode(file: NodeConfigFile, node: NodeConfig): Promise<void> {
  const pid = node.pid;
  // The gateway's removal may have stopped it already: then it is no longer 'started'.
  if (pid === undefined || !isAlive(pid) || !(await file.transition(node.id, 'started', 'removing'))) return;
  const stillRemoving = async () => (await file.list()).find((n) => n.id === node.id)?.status === 'removing';
  const deadline = Date.now() + REMOVAL_WAIT_MS;
  while (Date.now() < deadline && isAlive(pid) && (await stillRemoving())) await sleep(100);
  if (isAlive(pid) && (await stillRemoving())) {
    throw new ShoalError('TIMEOUT', `the process ${pid} running ${node.id} did not stop it within ${REMOVAL_WAIT_MS / 1000} s`);
  }
}

type Running = { config: NodeConfig; node: DiskNode };

/**
 * The life of the nodes one `shoal node start` runs. A node ends alone: removed from the cluster
 * (by the gateway, or marked `removing` by `shoal node remove`), or refused for good, which it
 * explains on stderr. Once none is left the process exits: 1 if any was refused, 0 otherwise.
 */
class NodeProcess {
  readonly running: Running[] = [];
  readonly #file: NodeConfigFile;
  #refused = false;
  #polling = false;

  constructor(file: NodeConfigFile) {
    this.#file = file;
    const timer = setInterval(() => void this.#pollRemovals(), REMOVAL_POLL_MS);
    timer.unref();
  }

  /** Watched before anything is awaited: a refusal can arrive as soon as the node has started. */
  add(entry: Running): void {
    this.running.push(entry);
    entry.node.agent.on('state', ({ state, reason, code }) => {
      if (state !== 'rejected') return;
      if (code !== CLOSE.REMOVED) {
        this.#refused = true;
        console.error(`shoal: node ${entry.config.id} was refused by the gateway: ${reason ?? 'no reason given'}`);
      }
      void this.#end(entry, { status: 'stopped', pid: undefined });
    });
  }

  async stopAll(): Promise<void> {
    for (const entry of [...this.running]) await this.#end(entry, { status: 'stopped', pid: undefined }, false);
  }

  async #pollRemovals(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const removing = new Set((await this.#file.list()).filter((n) => n.status === 'removing').map((n) => n.id));
      for (const entry of this.running.filter(({ config }) => removing.has(config.id))) await this.#end(entry, null);
    } finally {
      this.#polling = false;
    }
  }

  /** Stops one node and records it (`null`: forgets it); the last one to end ends the process. */
  async #end(entry: Running, change: Partial<NodeConfig> | null, exitWhenLast = true): Promise<void> {
    const at = this.running.indexOf(entry);
    if (at < 0) return;
    this.running.splice(at, 1);
    await entry.node.stop();
    await (change ? this.#file.update(entry.config.id, change) : this.#file.remove(entry.config.id)).catch(() => {});
    if (exitWhenLast && this.running.length === 0) process.exit(this.#refused ? 1 : 0);
  }
}

/** The node's terminal view: used space, chunks and transfer rates, or plain lines when logging. */
function watchNodes(nodes: Running[]): LiveStatus {
  const last = new Map<string, { at: number; bytesIn: number; bytesOut: number }>();
  const status = new LiveStatus(async () => {
    const lines = ['── shoal node ──'];
    for (const { config, node } of nodes) {
      const snap = await node.agent.snapshot();
      const prev = last.get(config.id) ?? { at: Date.now() - 1000, bytesIn: snap.bytesIn, bytesOut: snap.bytesOut };
      const seconds = Math.max(0.001, (Date.now() - prev.at) / 1000);
      last.set(config.id, { at: Date.now(), bytesIn: snap.bytesIn, bytesOut: snap.bytesOut });
      lines.push(
        `  ${config.id.padEnd(12)} ${node.agent.state.padEnd(10)} ${formatBytes(snap.usedBytes)} / ${formatBytes(config.capacityBytes)} ` +
          `${snap.chunkCount} chunks · in ${formatRate((snap.bytesIn - prev.bytesIn) / seconds)} out ${formatRate((snap.bytesOut - prev.bytesOut) / seconds)}`,
      );
    }
    return lines;
  });
  for (const { config, node } of nodes) {
    node.agent.on('state', ({ state, reason }) => status.log(`${config.id}: ${state}${reason ? ` (${reason})` : ''}`));
    node.agent.on('activity', (a) => {
      if (a.kind === 'error') status.log(`${config.id}: ${a.message}`);
    });
  }
  return status;
}
