import { join } from 'node:path';
import { ShoalError } from '../../../shared/errors.ts';
import { plural } from '../../../shared/plural.ts';
import { DEFAULT_GATEWAY_CONFIG, type GatewayConfig } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/start-gateway.ts';
import { PACKAGE_ROOT } from '../../lib/package-root.ts';
import { BurstLines } from '../burst-lines.ts';
import { LiveStatus } from '../live-status.ts';
import type { CommandInput, CommandSpec, Flags } from '../command-spec.ts';
import { durationOption, numberOption, onShutdown, sizeOption, stringOption } from '../options.ts';
import { formatBytes, formatRate } from '../units.ts';

export const WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web');

/** The gateway's flags, shared by `gateway`, `demo` and `recover`. */
export const GATEWAY_FLAGS: Flags = {
  port: { type: 'string', value: 'PORT', default: '8000', description: 'the port to listen on (0: any free one)' },
  host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'the address to listen on; 0.0.0.0 for every interface' },
  replicas: { type: 'string', value: 'N', default: '2', description: 'copies of every chunk, each on a different node (R)' },
  'chunk-size': { type: 'string', value: 'SIZE', default: '4MiB', description: 'the size files are cut into (64KiB to 64MiB)' },
  'max-file-size': { type: 'string', value: 'SIZE', default: '1TiB', description: 'the largest file an upload may be' },
  'heartbeat-ms': { type: 'string', value: 'MS', default: '5000', description: 'how often the gateway pings every node' },
  'offline-after-ms': { type: 'string', value: 'MS', default: '15000', description: 'how long a node may stay silent before it is marked offline' },
  'repair-after': { type: 'string', value: 'DURATION', default: '60s', description: 'how long a node may be offline before its chunks are copied elsewhere' },
  'repair-rate': { type: 'string', value: 'SIZE', default: '64MiB', description: 'bytes per second repair and rebalancing may copy' },
  'gc-grace': { type: 'string', value: 'DURATION', default: '10m', description: 'how long a chunk no file needs stays on a node before it is collected' },
  'gc-max-share': { type: 'string', value: 'SHARE', default: '10%', description: "the most of a node's chunks collection deletes in one grace period without confirmation" },
  'keep-deletions': { type: 'string', value: 'DURATION', default: '30d', description: "how long the nodes keep a deletion's manifest" },
  'upload-expiry': { type: 'string', value: 'DURATION', default: '24h', description: 'how long a resumable upload may sit idle before it is ended and its chunks released' },
  'forget-tabs-after': { type: 'string', value: 'DURATION', default: '24h', description: 'forget browser nodes offline this long that hold no recorded chunk (0: never)' },
  'allowed-origins': { type: 'string', value: 'URL,URL', description: 'other sites whose pages may make tabs nodes' },
  'allowed-hosts': { type: 'string', value: 'HOST,HOST', description: 'host names besides loopback and --host under which browsers reach this gateway' },
  'new-cluster': { type: 'boolean', description: 'start a new cluster in an empty data directory even when nodes of another cluster knock' },
  metadata: { type: 'string', value: 'URL', description: 'keep the metadata in PostgreSQL at postgres://user@host:port/db (env SHOAL_METADATA) instead of SQLite in the data directory' },
  'public-url': { type: 'string', value: 'URL', description: "where nodes, clients and the other gateways reach this gateway (default: where it listens, 127.0.0.1 for 0.0.0.0); listed in /api/gateways" },
  'read-cache': { type: 'string', value: 'SIZE', default: '0', description: 'memory for small chunks (64 KiB or less) written or read lately, so their downloads need not reach a node (0: none)' },
  'max-uploads': { type: 'string', value: 'N', default: '32', description: 'uploads that may stream at once; past it clients get 503 with Retry-After' },
  'idle-timeout': { type: 'string', value: 'DURATION', default: '60s', description: "how long an upload's body may send nothing before it is ended (408)" },
  'tls-cert': { type: 'string', value: 'FILE', description: 'PEM certificate to serve HTTPS and WSS with (with --tls-key)' },
  'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key of --tls-cert' },
  'trusted-proxies': { type: 'string', value: 'ADDR,ADDR', description: 'reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed' },
  's3-port': { type: 'string', value: 'PORT', description: 'serve the S3-compatible API on this port too (0: any free one); keys: shoal s3 key create' },
  's3-domain': { type: 'string', value: 'DOMAIN', description: 'address buckets as <bucket>.DOMAIN (virtual-hosted style) besides path style' },
  'metrics-token-file': { type: 'string', value: 'FILE', description: 'a secret (16+ characters) that may scrape /metrics besides admin tokens, for Prometheus' },
};

export function gatewayConfig(values: Record<string, string | boolean | undefined>, dataDir: string): Partial<GatewayConfig> {
  const d = DEFAULT_GATEWAY_CONFIG;
  const size = (name: string, fallback: number) => sizeOption(values[name], name, fallback);
  const duration = (name: string, fallback: number) => durationOption(values[name], name, fallback);
  return {
    dataDir,
    newCluster: values['new-cluster'] === true,
    metadataUrl: stringOption(values.metadata) ?? (process.env.SHOAL_METADATA || undefined),
    publicUrl: stringOption(values['public-url']),
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
    uploadExpiryMs: duration('upload-expiry', d.uploadExpiryMs),
    forgetTabsAfterMs: duration('forget-tabs-after', d.forgetTabsAfterMs),
    allowedOrigins: originList(stringOption(values['allowed-origins'])),
    allowedHosts: list(values['allowed-hosts']),
    readCacheBytes: size('read-cache', d.readCacheBytes),
    maxUploads: numberOption(values['max-uploads'], 'max-uploads', d.maxUploads),
    idleTimeoutMs: duration('idle-timeout', d.idleTimeoutMs),
    tlsCert: stringOption(values['tls-cert']),
    tlsKey: stringOption(values['tls-key']),
    trustedProxies: list(values['trusted-proxies']),
    s3Port: values['s3-port'] === undefined ? undefined : numberOption(values['s3-port'], 's3-port', 0),
    s3Domain: stringOption(values['s3-domain'])?.toLowerCase(),
    metricsTokenFile: stringOption(values['metrics-token-file']),
    webRoot: WEB_ROOT,
  };
}

/** `--allowed-hosts a,b`: the entries, trimmed. */
function list(value: string | boolean | undefined): string[] {
  return (stringOption(value) ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
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

export const gatewayCommand: CommandSpec = {
  name: 'gateway',
  group: 'Running a cluster',
  summary: 'run the gateway: the HTTP API, the web app and the nodes\' WebSocket, until Ctrl-C',
  flags: GATEWAY_FLAGS,
  details: 'On a terminal it shows a live status block; otherwise it logs one line per event.',
  run: runGateway,
};

async function runGateway({ values, dataDir }: CommandInput): Promise<void> {
  const gateway = await startGateway(gatewayConfig(values, dataDir));
  const status = watchGateway(gateway);
  // Before the line tests and scripts wait for, so that both addresses are known once it appears.
  if (gateway.s3Url) console.log(`S3 API at ${gateway.s3Url} (path style${gateway.config.s3Domain ? `, and <bucket>.${gateway.config.s3Domain}` : ''})`);
  console.log(`shoal gateway listening on ${gateway.url} (data in ${dataDir}, ${gateway.config.replicas} replicas)`);
  console.log(`dashboard: open ${await gateway.loginLink()} once to log this browser in (shoal login-link makes another)`);
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
        `${plural(health.files, 'file')} · ${plural(health.chunks, 'chunk')} · ${health.underReplicatedChunks} under-replicated · ` +
        `repair ${health.repair.queued + health.repair.active} pending, ${health.repair.done} done`,
      ...nodes.map(
        (n) =>
          `  ${n.status === 'online' ? '●' : '○'} ${n.id.padEnd(14)} ${n.kind.padEnd(7)} ${n.status.padEnd(8)} ` +
          `${formatBytes(n.usedBytes).padStart(9)} / ${formatBytes(n.capacityBytes).padEnd(9)} ${plural(n.chunkCount, 'chunk').padStart(13)} ` +
          `in ${formatRate(n.writeBps)} out ${formatRate(n.readBps)}`,
      ),
    ];
  });
  const files = new BurstLines((line) => status.log(line));
  gateway.events.subscribe((event) => {
    if (event.type === 'node.joined') status.log(`node ${event.node.id} (${event.node.kind}) online`);
    else if (event.type === 'node.left') status.log(`node ${event.node.id} offline`);
    else if (event.type === 'file.added') {
      const line = `stored ${event.file.name} (${formatBytes(event.file.size)}, ${plural(event.file.chunks, 'chunk')})`;
      files.add('stored', line, event.file.size, (count, bytes) => `stored ${plural(count, 'more file')} (${formatBytes(bytes)})`);
    } else if (event.type === 'file.removed') files.add('deleted', `deleted ${event.name}`, 0, (count) => `deleted ${plural(count, 'more file')}`);
    else if (event.type === 'replica.lost') status.log(`replica of ${event.hash.slice(0, 12)} on ${event.nodeId} lost: ${event.reason}`);
    else if (event.type === 'node.removed') status.log(`node ${event.nodeId} removed`);
    else if (event.type === 'orphans.collected') status.log(`collected ${plural(event.count, 'unreferenced chunk')} on ${event.nodeId}`);
    else if (event.type === 'orphans.paused') status.log(`collection paused: ${event.reason} (shoal gc confirm)`);
    else if (event.type === 'repair.progress' && event.queued + event.active === 0) {
      status.log(`repair idle: ${plural(event.done, 'copy', 'copies')} made, ${event.removed} removed, ${event.failed} failed, ${event.underReplicatedChunks} under-replicated`);
    }
  });
  return status;
}
