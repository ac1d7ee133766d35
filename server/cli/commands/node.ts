import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import { startDiskNode, type DiskNode } from '../../node/start-node.ts';
import { LiveStatus } from '../live-status.ts';
import { NodeConfigFile, type NodeConfig } from '../node-config.ts';
import { enrolLocally } from '../node-enrolment.ts';
import { isAlive } from '../processes.ts';
import { numberOption, onShutdown, parse, stringOption } from '../options.ts';
import { formatBytes, formatRate, parseDuration, parseSize } from '../units.ts';

export async function nodeCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const handler = sub ? SUBCOMMANDS[sub] : undefined;
  if (!handler) throw new ShoalError('BAD_REQUEST', `usage: shoal node create|start|list|drain|remove (got ${sub ?? 'nothing'})`);
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
    const { values, positionals, dataDir } = parse(args, { 'scrub-interval': { type: 'string' }, 'scrub-rate': { type: 'string' } });
    if (positionals.length === 0) throw new ShoalError('BAD_REQUEST', 'usage: shoal node start <id...> [--gateway URL] [--scrub-interval 1h] [--scrub-rate 16MiB]');
    const scrubInterval = stringOption(values['scrub-interval']);
    const scrubRate = stringOption(values['scrub-rate']);
    const scrub = {
      scrubIntervalMs: scrubInterval === undefined ? undefined : parseDuration(scrubInterval),
      scrubBytesPerSecond: scrubRate === undefined ? undefined : parseSize(scrubRate, 'b'),
    };
    const gatewayOverride = stringOption(values.gateway) ?? process.env.SHOAL_GATEWAY;
    const file = new NodeConfigFile(dataDir);
    const configs = await Promise.all(positionals.map((id) => file.get(id)));
    let status: LiveStatus | undefined;
    const nodes: Array<{ config: NodeConfig; node: DiskNode }> = [];
    const stopAll = async (): Promise<void> => {
      status?.stop();
      for (const { config, node } of nodes) {
        await node.stop();
        await file.update(config.id, { status: 'stopped', pid: undefined });
      }
    };
    const refusals = refusalWatch(configs.length, stopAll);
    for (const config of configs) {
      // Nodes created by a release before enrolment existed are enrolled now, the first time they start.
      if (config.join === undefined) await enrolLocally(dataDir, config);
      const node = await startDiskNode({ ...config, ...scrub, gatewayUrl: gatewayOverride ?? config.gateway });
      // Watched before anything is awaited: a refusal can arrive as soon as the node has started.
      refusals(config.id, node);
      node.agent.on('enrolled', () => void file.update(config.id, { join: undefined }));
      nodes.push({ config, node });
      await file.update(config.id, { status: 'started', pid: process.pid });
    }
    status = watchNodes(nodes);
    status.start();
    onShutdown(stopAll);
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
      if (local.pid !== undefined && isAlive(local.pid)) process.kill(local.pid, 'SIGTERM');
      await file.remove(id);
      await rm(local.dir, { recursive: true, force: true });
    }
    console.log(`removed node ${id}${local ? ` and its storage ${local.dir}` : ''}`);
  },
};

/**
 * A node the gateway refuses for good (not enrolled, a wrong identity, removed) says why on stderr;
 * once all `count` nodes of this process are refused there is nothing left to run, so it exits 1.
 */
function refusalWatch(count: number, stop: () => Promise<void>): (id: string, node: DiskNode) => void {
  const refused = new Set<string>();
  return (id, node) => {
    node.agent.on('state', ({ state, reason }) => {
      if (state !== 'rejected' || refused.has(id)) return;
      refused.add(id);
      console.error(`shoal: node ${id} was refused by the gateway: ${reason ?? 'no reason given'}`);
      if (refused.size === count) void stop().finally(() => process.exit(1));
    });
  };
}

/** The node's terminal view: used space, chunks and transfer rates, or plain lines when logging. */
function watchNodes(nodes: Array<{ config: NodeConfig; node: DiskNode }>): LiveStatus {
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
