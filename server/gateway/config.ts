import { ShoalError } from '../../shared/errors.ts';
import { MAX_CHUNK_BYTES } from '../../shared/protocol.ts';

const MiB = 1024 * 1024;

export interface GatewayConfig {
  host: string;
  port: number;
  dataDir: string;
  replicas: number;
  chunkSize: number;
  maxFileBytes: number;
  /** Chunks of one upload being replicated at once; more waits, which pauses reading the request body. */
  uploadWindow: number;
  /** Chunks fetched ahead of the one being sent during a download. */
  readAhead: number;
  /** How long a download may keep the chunks of a version replaced or deleted meanwhile. */
  readerHoldMs: number;
  heartbeatMs: number;
  offlineAfterMs: number;
  requestTimeoutMs: number;
  maxInFlightDisk: number;
  maxInFlightBrowser: number;
  /** How long a node may be offline before its chunks are re-replicated elsewhere. */
  repairAfterMs: number;
  /** Bytes per second repair and rebalancing may copy. */
  repairBytesPerSec: number;
  /** How long a chunk no file needs stays on a node before it is collected. */
  gcGraceMs: number;
  /**
   * The share of a node's chunks collection may delete in one grace period (0 to 1); past it,
   * collection on that node pauses until an admin confirms.
   */
  gcMaxShare: number;
  /**
   * How long a deletion's manifest stays on the nodes: a metadata restored from a backup older than
   * that may bring back, unreadable, files deleted before it.
   */
  keepDeletionsMs: number;
  /** Start a new cluster in an empty data directory even when nodes of another cluster knock. */
  newCluster: boolean;
  /** Host names besides loopback and --host under which browsers reach this gateway. */
  allowedHosts: string[];
  /** Browser origins besides the gateway's own whose pages may make a tab a node. */
  allowedOrigins: string[];
  /** Built web app to serve; absent means a placeholder page. */
  webRoot?: string;
}

export const DEFAULT_GATEWAY_CONFIG: GatewayConfig = {
  host: '127.0.0.1',
  port: 8000,
  dataDir: './shoal-data',
  replicas: 2,
  chunkSize: 4 * MiB,
  maxFileBytes: 1024 ** 4,
  uploadWindow: 4,
  readAhead: 2,
  readerHoldMs: 60 * 60_000,
  heartbeatMs: 5000,
  offlineAfterMs: 15_000,
  requestTimeoutMs: 30_000,
  maxInFlightDisk: 8,
  maxInFlightBrowser: 2,
  repairAfterMs: 60_000,
  repairBytesPerSec: 64 * MiB,
  gcGraceMs: 10 * 60_000,
  gcMaxShare: 0.1,
  keepDeletionsMs: 30 * 24 * 60 * 60_000,
  allowedOrigins: [],
  allowedHosts: [],
  newCluster: false,
};

/** The defaults with `overrides` applied, refused when a value would make the gateway misbehave. */
export function gatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const config: GatewayConfig = { ...DEFAULT_GATEWAY_CONFIG, ...overrides };
  if (!Number.isInteger(config.replicas) || config.replicas < 1) throw new ShoalError('BAD_REQUEST', 'replicas must be a positive integer');
  if (!(config.chunkSize >= 64 * 1024 && config.chunkSize <= MAX_CHUNK_BYTES)) {
    throw new ShoalError('BAD_REQUEST', `chunk size must be between 64 KiB and ${MAX_CHUNK_BYTES / MiB} MiB`);
  }
  if (!(config.gcMaxShare > 0 && config.gcMaxShare <= 1)) throw new ShoalError('BAD_REQUEST', 'the largest share collection may delete must be above 0% and at most 100%');
  return config;
}
