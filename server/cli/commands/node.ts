import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import { startDiskNode, type DiskNode } from '../../node/start-node.ts';
import { LiveStatus } from '../live-status.ts';
import { NodeConfigFile, type NodeConfig } from '../node-config.ts';
import { enrolLocally } from '../node-enrolment.ts';
import { isAlive } from '../../lib/is-alive.ts';
import { plural } from '../../../shared/plural.ts';
import { clientFor } from '../client.ts';
import { CA_FLAG, JSON_FLAG, type CommandSpec } from '../command-spec.ts';
import { durationOption, numberOption, onShutdown, sizeOption, stringOption } from '../options.ts';
import { localTime } from '../time.ts';
import { formatBytes, formatRate } from '../units.ts';

const REMOVAL_POLL_MS = 250;
const REMOVAL_WAIT_MS = 15_000;

export const nodeCreateCommand: CommandSpec = {
  name: 'node create',
  args: '<id>',
  group: 'Disk nodes',
  summary: 'record a disk node in DATA/nodes.json and enrol it with the local gateway',
  client: true,
  flags: {
    storage: { type: 'string', value: 'SIZE', default: '1GB', description: 'how much it may store: 512MB, 1GB, 4GiB; a bare number is GB' },
    cpu: { type: 'string', value: 'N', default: '2', description: 'cores it reports, for the dashboard' },
    dir: { type: 'string', value: 'PATH', default: 'DATA/nodes/<id>', description: 'where it keeps its chunks' },
    join: { type: 'string', value: 'SECRET', description: 'for a gateway on another machine: its join secret (invites are for browser tabs); the node enrols when it first connects' },
  },
  details: 'The node talks to --gateway, recorded now (http:// is assumed when no scheme is given).',
  async run(input) {
    const { values, dataDir, gatewayUrl } = input;
    const [id] = input.positionals as [string];
    const file = new NodeConfigFile(dataDir);
    const join = stringOption(values.join);
    const node = await file.create({
      id,
      gateway: gatewayUrl,
      capacityBytes: sizeOption(values.storage, 'storage', 1e9, 'gb'),
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
};

export const nodeStartCommand: CommandSpec = {
  name: 'node start',
  args: '<ids...>',
  group: 'Disk nodes',
  summary: 'run disk nodes recorded in DATA/nodes.json, in this process, until Ctrl-C',
  flags: {
    gateway: { type: 'string', value: 'URL', description: 'connect to this gateway instead of the one recorded at node create (env SHOAL_GATEWAY)' },
    'scrub-interval': { type: 'string', value: 'DURATION', default: '1h', description: 'how often each node re-reads all its chunks' },
    ca: CA_FLAG,
    'scrub-rate': { type: 'string', value: 'SIZE', default: '16MiB', description: 'how fast a scrub reads, per second' },
    'pack-below': { type: 'string', value: 'SIZE', default: '64KiB', description: 'chunks up to this size share pack files and fsyncs (0: each chunk a file of its own)' },
    join: { type: 'string', value: 'SECRET', description: 'enrol again with a gateway that lost the enrolment with its metadata' },
  },
  details: 'On a terminal it shows a live status block; otherwise it logs one line per change, starting with a line per node.',
  async run(input) {
    const { values, dataDir } = input;
    const tuning = {
      scrubIntervalMs: values['scrub-interval'] === undefined ? undefined : durationOption(values['scrub-interval'], 'scrub-interval', 0),
      scrubBytesPerSecond: values['scrub-rate'] === undefined ? undefined : sizeOption(values['scrub-rate'], 'scrub-rate', 0),
      packBelow: values['pack-below'] === undefined ? undefined : sizeOption(values['pack-below'], 'pack-below', 0),
    };
    const gatewayOverride = values.gateway !== undefined || process.env.SHOAL_GATEWAY ? input.gatewayUrl : undefined;
    const file = new NodeConfigFile(dataDir);
    // A node whose enrolment a gateway elsewhere lost with its metadata joins again with a credential.
    const join = stringOption(values.join);
    const configs = (await Promise.all(input.positionals.map((id) => file.get(id)))).map((config) => (join === undefined ? config : { ...config, join }));
    const nodes = new NodeProcess(file);
    for (const config of configs) {
      // Nodes created by a release before enrolment existed are enrolled now, the first time they start.
      if (config.join === undefined) await enrolLocally(dataDir, config);
      const gatewayUrl = gatewayOverride ?? config.gateway;
      const node = await startDiskNode({ ...config, ...tuning, gatewayUrl });
      nodes.add({ config, node });
      node.agent.on('enrolled', () => void file.update(config.id, { join: undefined }));
      await file.update(config.id, { status: 'started', pid: process.pid });
      const { capacityBytes } = await node.agent.snapshot();
      const room = capacityBytes < config.capacityBytes ? ` (its disk has room for ${formatBytes(capacityBytes)} only)` : '';
      startupLine(`node ${config.id} started (pid ${process.pid}): ${formatBytes(config.capacityBytes)}${room} in ${config.dir}, connecting to ${gatewayUrl}`);
    }
    const status = watchNodes(nodes.running);
    status.start();
    onShutdown(async () => {
      status.stop();
      await nodes.stopAll();
    });
  },
};

export const nodeListCommand: CommandSpec = {
  name: 'node list',
  group: 'Disk nodes',
  summary: 'the disk nodes of DATA/nodes.json, running or not (the cluster\'s view: shoal status)',
  flags: { json: JSON_FLAG },
  details: 'With --json: an array of {id,status,capacityBytes,cpu,gateway,dir,pid?}; the node secrets are left out.',
  async run(input) {
    const { dataDir } = input;
    // By name, as people number them: nodes created at once land in nodes.json in any order.
    const listed = (await new NodeConfigFile(dataDir).list()).sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
    const nodes = listed.map((n) => ({
      id: n.id,
      status: n.pid !== undefined && isAlive(n.pid) ? 'running' : n.status === 'started' ? 'stopped' : n.status,
      capacityBytes: n.capacityBytes,
      cpu: n.cpu,
      gateway: n.gateway,
      dir: n.dir,
      ...(n.pid !== undefined && isAlive(n.pid) ? { pid: n.pid } : {}),
    }));
    if (input.values.json) {
      console.log(JSON.stringify(nodes, null, 2));
      return;
    }
    if (nodes.length === 0) {
      console.log(`no nodes in ${dataDir} (create one with: shoal node create node1 --storage 1GB)`);
      return;
    }
    console.log(['ID'.padEnd(14), 'STATUS'.padEnd(8), 'STORAGE'.padEnd(10), 'CPU'.padEnd(4), 'GATEWAY'.padEnd(26), 'DIR'].join(' '));
    for (const n of nodes) {
      console.log([n.id.padEnd(14), n.status.padEnd(8), formatBytes(n.capacityBytes).padEnd(10), String(n.cpu).padEnd(4), n.gateway.padEnd(26), n.dir].join(' '));
    }
  },
};

export const nodeDrainCommand: CommandSpec = {
  name: 'node drain',
  args: '<id>',
  group: 'Disk nodes',
  summary: 'move every chunk off a node while it keeps serving reads; waits until it is safe to remove',
  client: true,
  flags: { 'no-wait': { type: 'boolean', description: 'return once draining has started' } },
  async run(input) {
    const [id] = input.positionals as [string];
    const client = clientFor(input);
    await client.drainNode(id);
    console.log(`draining ${id}: its chunks are being copied to other nodes; it still serves reads`);
    if (input.values['no-wait']) return;
    let last = -1;
    for (;;) {
      const node = (await client.nodes()).find((n) => n.id === id);
      if (!node) throw new ShoalError('NODE_NOT_FOUND', `node ${id} disappeared while draining`);
      if (node.recordedChunks === 0) break;
      if (node.recordedChunks !== last) console.log(`  ${plural(node.recordedChunks, 'chunk')} left on ${id}`);
      last = node.recordedChunks;
      await sleep(500);
    }
    console.log(`${id} is drained and safe to remove: shoal node remove ${id}`);
  },
};

export const nodeTrustCommand: CommandSpec = {
  name: 'node trust',
  args: '<id>',
  group: 'Disk nodes',
  summary: "clear a node's quarantine: it takes new chunks again",
  client: true,
  async run(input) {
    const [id] = input.positionals as [string];
    await clientFor(input).trustNode(id);
    console.log(`${id} is trusted again: its quarantine is cleared and it takes new chunks`);
  },
};

export const nodeRemoveCommand: CommandSpec = {
  name: 'node remove',
  args: '<id>',
  group: 'Disk nodes',
  summary: 'forget a node and delete its storage; refused while some chunk would drop below R good copies',
  client: true,
  flags: { force: { type: 'boolean', description: 'remove it even if data is lost, or the gateway cannot be asked' } },
  async run(input) {
    const { values, dataDir, gatewayUrl } = input;
    const [id] = input.positionals as [string];
    const force = values.force === true;
    const file = new NodeConfigFile(dataDir);
    const local = (await file.list()).find((n) => n.id === id);
    try {
      await clientFor({ ...input, gatewayUrl: local?.gateway ?? gatewayUrl }).removeNode(id, { force });
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

/** A line for logs, where the live status block (a terminal's) does not show that the node started. */
function startupLine(line: string): void {
  if (!process.stdout.isTTY || process.env.CI !== undefined) console.log(`${localTime(Date.now())} ${line}`);
}

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
        `  ${config.id.padEnd(12)} ${node.agent.state.padEnd(10)} ${formatBytes(snap.usedBytes)} / ${formatBytes(snap.capacityBytes)} ` +
          `${plural(snap.chunkCount, 'chunk')} · in ${formatRate((snap.bytesIn - prev.bytesIn) / seconds)} out ${formatRate((snap.bytesOut - prev.bytesOut) / seconds)}`,
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
