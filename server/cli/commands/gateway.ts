import { fileURLToPath } from 'node:url';
import { ShoalError } from '../../../shared/errors.ts';
import { DEFAULT_GATEWAY_CONFIG, type GatewayConfig } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/start-gateway.ts';
import { LiveStatus } from '../live-status.ts';
import { numberOption, onShutdown, parse, stringOption } from '../options.ts';
import { formatBytes, formatRate, parseDuration, parseSize } from '../units.ts';

export const WEB_ROOT = fileURLToPath(new URL('../../../dist/web', import.meta.url));

export const GATEWAY_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  replicas: { type: 'string' },
  'chunk-size': { type: 'string' },
  'max-file-size': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'offline-after-ms': { type: 'string' },
  'repair-after': { type: 'string' },
  'repair-rate': { type: 'string' },
  'gc-grace': { type: 'string' },
  'gc-max-share': { type: 'string' },
  'keep-deletions': { type: 'string' },
  'allowed-origins': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'new-cluster': { type: 'boolean' },
} as const;

export function gatewayConfig(values: Record<string, string | boolean | undefined>, dataDir: string): Partial<GatewayConfig> {
  const d = DEFAULT_GATEWAY_CONFIG;
  const size = (name: string, fallback: number) => {
    const text = stringOption(values[name]);
    return text === undefined ? fallback : parseSize(text, 'b');
  };
  const duration = (name: string, fallback: number) => {
    const text = stringOption(values[name]);
    return text === undefined ? fallback : parseDuration(text);
  };
  return {
    dataDir,
    newCluster: values['new-cluster'] === true,
    port: numberOption(values.port, 'port', d.port),
    host: stringOption(values.host) ?? d.host,
    replicas: numberOption(values.replicas, 'replicas', d.replicas),
    chunkSize: size('chunk-size', d.chunkSize),
    maxFileBytes: size('max-file-size', d.maxFileBytes),
    heartbeatMs: numberOption(values['heartbeat-ms'], 'heartbeat-ms', d.heartbeatMs),
    offlineAfterMs: numberOption(values['offline-after-ms'], 'offline-after-ms', d.offlineAfterMs),
    repairAfterMs: duration('repair-after', d.repairAfterMs),
    repairBytesPerSec: size('repair-rate', d.repairBytesPerSec),
    gcGraceMs: duration('gc-grace', d.gcGraceMs),
    gcMaxShare: shareOption(stringOption(values['gc-max-share']), d.gcMaxShare),
    keepDeletionsMs: duration('keep-deletions', d.keepDeletionsMs),
    allowedOrigins: originList(stringOption(values['allowed-origins'])),
    allowedHosts: (stringOption(values['allowed-hosts']) ?? '').split(',').map((host) => host.trim()).filter(Boolean),
    webRoot: WEB_ROOT,
  };
}

/** `--gc-max-share 10%`, or the same as a fraction, 0.1. */
function shareOption(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!match) throw new ShoalError('BAD_REQUEST', `--gc-max-share needs a share like 10% or 0.1, got ${JSON.stringify(text)}`);
  return Number(match[1]) / (match[2] ? 100 : 1);
}

/**
 * `--allowed-origins a,b`: the gateway compares them with a browser's Origin header letter for
 * letter, so each is reduced to that form (scheme, host, port; no path, no trailing slash).
 */
function originList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const origin = URL.canParse(entry) ? new URL(entry).origin : 'null';
      if (origin === 'null') throw new ShoalError('BAD_REQUEST', `--allowed-origins needs origins like http://127.0.0.1:5173, got ${JSON.stringify(entry)}`);
      return origin;
    });
}

export async function gatewayCommand(args: string[]): Promise<void> {
  const { values, dataDir } = parse(args, GATEWAY_OPTIONS);
  const gateway = await startGateway(gatewayConfig(values, dataDir));
  const status = watchGateway(gateway);
  console.log(`shoal gateway listening on ${gateway.url} (data in ${dataDir}, ${gateway.config.replicas} replicas)`);
  status.start();
  onShutdown(async () => {
    status.stop();
    await gateway.close();
  });
  printWarnings(gateway);
}

/** What the operator should know at once goes to stderr, whatever the terminal shows. */
export function printWarnings(gateway: Gateway): void {
  gateway.onWarning((message) => console.error(`shoal: warning: ${message}`));
}

/** The gateway's terminal view: a live table on a terminal, one line per event otherwise. */
export function watchGateway(gateway: Gateway): LiveStatus {
  const status = new LiveStatus(async () => {
    const [health, nodes] = await Promise.all([gateway.status.health(), gateway.registry.views()]);
    return [
      `── shoal gateway ${gateway.url} ── ${health.status.toUpperCase()}`,
      `nodes ${health.nodesOnline}/${health.nodesTotal} online · ${formatBytes(health.usedBytes)} of ${formatBytes(health.capacityBytes)} used · ` +
        `${health.files} files · ${health.chunks} chunks · ${health.underReplicatedChunks} under-replicated · ` +
        `repair ${health.repair.queued + health.repair.active} pending, ${health.repair.done} done`,
      ...nodes.map(
        (n) =>
          `  ${n.status === 'online' ? '●' : '○'} ${n.id.padEnd(14)} ${n.kind.padEnd(7)} ${n.status.padEnd(8)} ` +
          `${formatBytes(n.usedBytes).padStart(9)} / ${formatBytes(n.capacityBytes).padEnd(9)} ${String(n.chunkCount).padStart(6)} chunks ` +
          `in ${formatRate(n.writeBps)} out ${formatRate(n.readBps)}`,
      ),
    ];
  });
  gateway.events.subscribe((event) => {
    if (event.type === 'node.joined') status.log(`node ${event.node.id} (${event.node.kind}) online`);
    else if (event.type === 'node.left') status.log(`node ${event.node.id} offline`);
    else if (event.type === 'file.added') status.log(`stored ${event.file.name} (${formatBytes(event.file.size)}, ${event.file.chunks} chunks)`);
    else if (event.type === 'file.removed') status.log(`deleted ${event.name}`);
    else if (event.type === 'replica.lost') status.log(`replica of ${event.hash.slice(0, 12)} on ${event.nodeId} lost: ${event.reason}`);
    else if (event.type === 'node.removed') status.log(`node ${event.nodeId} removed`);
    else if (event.type === 'orphans.collected') status.log(`collected ${event.count} unreferenced chunk(s) on ${event.nodeId}`);
    else if (event.type === 'orphans.paused') status.log(`collection paused: ${event.reason} (shoal gc confirm)`);
    else if (event.type === 'repair.progress' && event.queued + event.active === 0) {
      status.log(`repair idle: ${event.done} replica(s) made, ${event.removed} removed, ${event.failed} failed, ${event.underReplicatedChunks} under-replicated`);
    }
  });
  return status;
}
