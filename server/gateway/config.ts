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
  /**
   * Memory for the plaintext of small chunks written or read lately (files/small-chunk-cache.ts),
   * so that their downloads need not reach a node; 0: none. A download served from it does not
   * check the nodes' copies on the way, as one that reads them does.
   */
  readCacheBytes: number;
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
  /** How long a resumable upload may sit idle before it is ended and its chunks released. */
  uploadExpiryMs: number;
  /** How long a browser node holding no recorded chunk may be offline before it is forgotten; 0: never. */
  forgetTabsAfterMs: number;
  /** Start a new cluster in an empty data directory even when nodes of another cluster knock. */
  newCluster: boolean;
  /** postgres://user@host:port/db to keep the metadata in PostgreSQL; absent: SQLite in the data directory. */
  metadataUrl?: string;
  /** Where nodes, clients and the other gateways reach this one; absent: where it listens (loopback for every address). */
  publicUrl?: string;
  /** Host names besides loopback and --host under which browsers reach this gateway. */
  allowedHosts: string[];
  /** Browser origins besides the gateway's own whose pages may make a tab a node. */
  allowedOrigins: string[];
  /** Built web app to serve; absent means a placeholder page. */
  webRoot?: string;
  /** Uploads that may stream at once; past it clients get 503 TOO_MANY_UPLOADS with Retry-After. */
  maxUploads: number;
  /** How long an upload's body may send nothing before it is ended (408 UPLOAD_IDLE); a body that keeps arriving is never cut off. */
  idleTimeoutMs: number;
  /** How long a client may take to send a request's headers. */
  headersTimeoutMs: number;
  /** Memory all uploads together may hold in chunks not yet stored; reading bodies pauses past it. */
  uploadMemoryBytes: number;
  /** PEM files of the certificate and key to serve HTTPS and WSS with; both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /**
   * Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; from
   * anyone else those headers are ignored.
   */
  trustedProxies: string[];
  /** Port of the S3-compatible API (0: any free one); absent: no S3 API. */
  s3Port?: number;
  /** With it, `<bucket>.<s3Domain>` addresses a bucket (virtual-hosted style) besides path style. */
  s3Domain?: string;
  /** A file holding a secret that may scrape /metrics (besides admin tokens). */
  metricsTokenFile?: string;
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
  readCacheBytes: 0,
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
  uploadExpiryMs: 24 * 60 * 60_000,
  forgetTabsAfterMs: 24 * 60 * 60_000,
  allowedOrigins: [],
  allowedHosts: [],
  newCluster: false,
  maxUploads: 32,
  idleTimeoutMs: 60_000,
  headersTimeoutMs: 60_000,
  uploadMemoryBytes: 64 * MiB,
  trustedProxies: [],
};

/** The defaults with `overrides` applied, refused when a value would make the gateway misbehave. */
export function gatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const config: GatewayConfig = { ...DEFAULT_GATEWAY_CONFIG, ...overrides };
  if (!Number.isInteger(config.replicas) || config.replicas < 1) throw new ShoalError('BAD_REQUEST', 'replicas must be a positive integer');
  if (!(config.chunkSize >= 64 * 1024 && config.chunkSize <= MAX_CHUNK_BYTES)) {
    throw new ShoalError('BAD_REQUEST', `chunk size must be between 64 KiB and ${MAX_CHUNK_BYTES / MiB} MiB`);
  }
  if (!(config.gcMaxShare > 0 && config.gcMaxShare <= 1)) throw new ShoalError('BAD_REQUEST', 'the largest share collection may delete must be above 0% and at most 100%');
  if (!Number.isInteger(config.maxUploads) || config.maxUploads < 1) throw new ShoalError('BAD_REQUEST', 'the most uploads at once must be a positive integer');
  if (!(config.idleTimeoutMs > 0)) throw new ShoalError('BAD_REQUEST', 'the idle timeout must be above 0');
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new ShoalError('BAD_REQUEST', '--tls-cert and --tls-key go together');
  if (config.publicUrl !== undefined) config.publicUrl = publicUrl(config.publicUrl);
  return config;
}

/** `--public-url`: an http(s) origin (scheme, host, port): the gateway serves from its root. */
function publicUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new ShoalError('BAD_REQUEST', `--public-url needs an address like https://shoal.example:8000, got ${JSON.stringify(text)}`);
  }
  return url.origin;
}
