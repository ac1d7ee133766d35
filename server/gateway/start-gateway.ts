import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ShoalError } from '../../shared/errors.ts';
import { NODE_WS_PATH } from '../../shared/protocol.ts';
import { createApp } from './api/app.ts';
import { createAuth } from './auth/auth.ts';
import { openTokenStore } from './auth/open-token-store.ts';
import { gatewayConfig, type GatewayConfig } from './config.ts';
import { EventBus } from './events/event-bus.ts';
import { ChunkCipher } from './files/chunk-cipher.ts';
import { CryptoWorkers } from './files/crypto-workers.ts';
import { loadDataKey } from './files/data-key.ts';
import { FileReader } from './files/file-reader.ts';
import { SmallChunkCache } from './files/small-chunk-cache.ts';
import { PlaintextResealer } from './files/plaintext-resealer.ts';
import { FileWriter } from './files/file-writer.ts';
import { UploadAdmission } from './files/upload-admission.ts';
import { Throughput } from './status/throughput.ts';
import { forgetInterval, TabForgetter } from './healing/tab-forgetter.ts';
import { BrowserOrigins } from './browser-origin.ts';
import { loadClusterIdentity } from './cluster-identity.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { ChunkCollector } from './healing/chunk-collector.ts';
import { InventoryReconciler } from './healing/inventory-reconciler.ts';
import { NodeAdmin } from './healing/node-admin.ts';
import { RepairService } from './healing/repair-service.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX, ManifestSeal } from './metadata/manifest.ts';
import { sealedSize } from './metadata/sealed-size.ts';
import type { MetadataStore } from './metadata/metadata-store.ts';
import { Admission } from './nodes/admission.ts';
import { BulkTransfers } from './nodes/bulk-transfers.ts';
import { Invites } from './nodes/invites.ts';
import { loadJoinSecret } from './nodes/join-secret.ts';
import { NodeRegistry } from './nodes/node-registry.ts';
import { NodeServer, type NodeServerOptions } from './nodes/node-server.ts';
import { GatewayAnnouncer, type GatewayListing } from './nodes/gateway-announcer.ts';
import { JointLiveness } from './nodes/joint-liveness.ts';
import { openNodePresence } from './nodes/open-node-presence.ts';
import { openMetadata } from './open-metadata.ts';
import { ChunkLocks } from './replicas/chunk-locks.ts';
import { NodeTrust } from './replicas/node-trust.ts';
import { ReplicaStore } from './replicas/replica-store.ts';
import { UnreferencedCopies } from './replicas/unreferenced-copies.ts';
import { UploadsInFlight } from './replicas/uploads-in-flight.ts';
import { loadSecret } from './secret-file.ts';
import { ClusterStatus } from './status/cluster-status.ts';
import { FileDetails } from './status/file-detail.ts';
import { ResumableUploads } from './files/resumable-uploads.ts';
import { UploadParts } from './files/upload-parts.ts';
import { openS3Stores } from './s3/open-s3-stores.ts';
import { createS3Api } from './s3/s3-api.ts';
import { readScrapeToken } from './api/metrics-routes.ts';
import { GatewayMetrics } from './status/gateway-metrics.ts';
import { bindCluster } from './cluster/cluster-binding.ts';
import { EventRelay } from './cluster/event-relay.ts';
import type { ClusterChannel } from './cluster/cluster-channel.ts';
import type { GatewayDirectory } from './cluster/gateway-directory.ts';
import { loadGatewayId } from './cluster/gateway-id.ts';
import { announceGateway } from './cluster/gateway-presence.ts';
import { openClusterStores } from './cluster/open-cluster-stores.ts';
import { gatewayRoutes } from './api/gateway-routes.ts';
import type { ChunkClaims } from './lease/chunk-claims.ts';
import { openGatewayLeases } from './lease/gateway-leases.ts';
import { localRepairer } from './cluster/repairer-front.ts';
import { openRepairer } from './cluster/repairer-desk.ts';
import type { Lease } from './lease/lease.ts';
import { sharedSecrets } from './shared-secrets.ts';
import { SerialPass } from '../lib/serial-pass.ts';

/** A running gateway, and what its embedders (the CLI's terminal view, tests) may look at. */
export interface Gateway {
  url: string;
  port: number;
  config: GatewayConfig;
  clusterId: string;
  /** This gateway's id among the cluster's (DATA/gateway-id). */
  gatewayId: string;
  /** Every gateway of the cluster, as the shared metadata lists them: where nodes find the others. */
  gateways: GatewayDirectory;
  /** The repair lease: `held` here, `holder()` the id of the gateway that runs repair and collection now. */
  lease: Lease;
  /** The token in DATA/admin-token, which the local CLI uses: admin of this gateway. */
  adminToken: string;
  /** A one-time dashboard address that logs a browser in as admin, for printing at start. */
  loginLink(): Promise<string>;
  /** Where the S3 API listens, when --s3-port is given. */
  s3Url?: string;
  /** Tells `listener` what an operator should know at once, e.g. that it may be in the wrong data directory. */
  onWarning(listener: (message: string) => void): void;
  events: EventBus;
  registry: NodeRegistry;
  status: ClusterStatus;
  close(): Promise<void>;
}

/** The composition root: builds every service with the collaborators it uses, bottom layer first. */
export async function startGateway(overrides: Partial<GatewayConfig> = {}): Promise<Gateway> {
  const config = gatewayConfig(overrides);
  // Read before the data directory is locked: a bad file stops the start with nothing to undo.
  const scrapeToken = config.metricsTokenFile === undefined ? undefined : readScrapeToken(config.metricsTokenFile);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Also a directory an earlier release made with the default mode: it holds the cluster's keys.
  chmodSync(config.dataDir, 0o700);
  const lock = DataDirLock.acquire(config.dataDir);
  const cluster = loadClusterIdentity(config.dataDir);
  const metadata = await openMetadata(config.dataDir, cluster.isNew, config.metadataUrl);
  const clusterStores = openClusterStores(metadata);
  // Before anything is written: a gateway of another cluster, or without the cluster's keys, stops here.
  await bindCluster(config.dataDir, cluster, clusterStores.record, sharedSecrets(config.dataDir, metadata)).catch(async (err: unknown) => {
    await metadata.close();
    lock.release();
    throw err;
  });
  const gatewayId = loadGatewayId(config.dataDir);
  const recoveryNeeded = await metadata.recoveryNeeded();
  if (recoveryNeeded) {
    await metadata.close();
    lock.release();
    throw new ShoalError('CONFLICT', `the metadata must be recovered first (${recoveryNeeded}): run shoal recover --data ${config.dataDir}`);
  }
  const dataKey = await loadDataKey(config.dataDir, metadata).catch(async (err: unknown) => {
    await metadata.close();
    lock.release();
    throw err;
  });
  const leases = await openGatewayLeases(metadata, gatewayId).catch(async (err: unknown) => {
    await metadata.close();
    lock.release();
    throw err;
  });
  const warnings = new Set<(message: string) => void>();
  const warnedClusters = new Set<string>();

  const unreferenced = new UnreferencedCopies();
  const origins = new BrowserOrigins(config);
  const auth = createAuth(openTokenStore(metadata));
  const adminToken = await auth.tokens.ensureAdminToken(config.dataDir);
  const bulk = new BulkTransfers();
  const { events, registry, trust, replicas, nodeServer, peers } = connectNodes(config, metadata, unreferenced, {
    peers: { gatewayId, listing: clusterStores.directory },
    claims: leases.claims,
    origins,
    bulk,
    clusterId: cluster.id,
    onForeignCluster: (nodeId, theirs) => {
      // A gateway that has just made a new cluster in an empty directory while nodes of another
      // knock was most likely started on the wrong --data. The knock proves nothing (anyone may
      // send one), so it warns rather than stops; the nodes are refused either way.
      if (!cluster.isNew || config.newCluster || warnedClusters.has(theirs) || warnedClusters.size >= 10) return;
      warnedClusters.add(theirs);
      const message =
        `node ${nodeId} of cluster ${theirs} knocked, but ${config.dataDir} held no cluster and this gateway started a new one (${cluster.id}): ` +
        `if that is the wrong data directory, stop this gateway and start it with the right --data, or recover it with shoal recover; --new-cluster silences this`;
      for (const listener of warnings) listener(message);
    },
    maxChunkBytes: sealedSize(Math.max(config.chunkSize, await metadata.largestChunkSize())),
  });

  const repair = new RepairService(replicas, registry, metadata, events, {
    replicas: config.replicas,
    repairAfterMs: config.repairAfterMs,
    bytesPerSecond: config.repairBytesPerSec,
    concurrency: 2,
    sweepIntervalMs: Math.min(30_000, Math.max(1000, config.repairAfterMs / 2)),
  });
  const collector = new ChunkCollector(replicas, unreferenced, registry, events, {
    graceMs: config.gcGraceMs,
    replicas: config.replicas,
    maxShare: config.gcMaxShare,
    keepDeletionsMs: config.keepDeletionsMs,
    inUse: () => parts.chunksInUse(),
  });
  // A chunk in flight is in memory twice, as plaintext and sealed.
  const uploads = new UploadsInFlight({ chunkBuffers: Math.max(2, Math.floor(config.uploadMemoryBytes / sealedSize(config.chunkSize))) });
  const admission = new UploadAdmission(registry, { replicas: config.replicas, maxUploads: config.maxUploads, idleTimeoutMs: config.idleTimeoutMs });
  const admin = new NodeAdmin(metadata, registry, events, repair, trust, uploads, config.replicas);
  const status = new ClusterStatus(metadata, registry, repair, collector, admin, config.replicas);
  const metrics = new GatewayMetrics({ status, registry, repair, collector });

  const seal = new ManifestSeal(loadSecret(config.dataDir, MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX));
  const cipher = new ChunkCipher(dataKey);
  const crypto = new CryptoWorkers(cipher, dataKey);
  const smallChunks = config.readCacheBytes > 0 ? new SmallChunkCache(config.readCacheBytes) : null;
  const writer = new FileWriter(replicas, uploads, registry, metadata, events, { seal, cipher, crypto, lastVersion: await metadata.largestVersion(), smallChunks }, config);
  const resealer = new PlaintextResealer(metadata, replicas, uploads, writer, { replicas: config.replicas, bytesPerSecond: config.repairBytesPerSec });
  // Files stored before manifests existed get theirs, and chunks stored before encryption are
  // encrypted, once nodes are there to hold them.
  // Background work, on the holder of the repair lease only. A pass stops at too few nodes, so a
  // node that joins while one runs gets a pass after it.
  const upgrades = new SerialPass(async () => {
    if (!leases.repair.held) return;
    await writer.writeMissingManifests();
    await resealer.run();
  });
  const upgradeStored = (): void => void upgrades.run();
  events.subscribe((event) => {
    if (event.type === 'node.joined' && leases.repair.held) upgradeStored();
  });
  const reader = new FileReader(replicas, registry, metadata, cipher, { readAhead: config.readAhead, holdMs: config.readerHoldMs, crypto, smallChunks });
  // Uploads in parts, S3's and resumable ones, in the metadata's database: their chunks are pinned
  // again before anything could collect them.
  const partStore = openS3Stores(metadata)?.parts;
  if (!partStore) {
    await metadata.close();
    lock.release();
    throw new ShoalError('BAD_REQUEST', 'this metadata store has no table for uploads in parts');
  }
  const parts = new UploadParts(writer, replicas, partStore);
  await parts.start();
  const resumable = new ResumableUploads(parts, replicas, registry, uploads, writer, {
    chunkSize: config.chunkSize,
    uploadWindow: config.uploadWindow,
    expiryMs: config.uploadExpiryMs,
    maxFileBytes: config.maxFileBytes,
  });
  const s3 = createS3Api({ metadata, reader, writer, admission, parts, dataDir: config.dataDir, domain: config.s3Domain, failures: auth.failures, metrics: metrics.http });
  if (config.s3Port !== undefined && !s3) {
    await metadata.close();
    lock.release();
    throw new ShoalError('BAD_REQUEST', 'this metadata store has no S3 tables: leave out --s3-port');
  }
  const throughput = new Throughput();
  const repairer = openRepairer(metadata, leases.repair, localRepairer(repair, collector));
  const app = createApp({ gateways: gatewayRoutes(clusterStores.directory, gatewayId, () => leases.repair.holder()), metadata, registry, events, reader, writer, admin, repair, collector, repairer: repairer.front, status, details: new FileDetails(metadata, registry, trust), uploads: resumable, invites: new Invites(metadata), origins, auth, throughput, admission, trustedProxies: config.trustedProxies, webRoot: config.webRoot, s3Keys: s3?.keyRoutes, metrics, scrapeToken, bulk, peerSockets: () => peers?.announcer.peerSockets() ?? [] });

  const forgetter = new TabForgetter({ nodes: () => status.nodes(), remove: (id, force) => admin.remove(id, force) }, { afterMs: config.forgetTabsAfterMs, intervalMs: forgetInterval(config.forgetTabsAfterMs) });

  const stopBackground = (): void => {
    forgetter.stop();
    repair.stop();
    collector.stop();
    resumable.stop();
  };
  leases.repair.onChange((held) => {
    if (!held) return stopBackground();
    repair.start();
    collector.start();
    resumable.start();
    forgetter.start();
    upgradeStored();
  });
  await leases.repair.start();
  const stopServices = (): void => {
    // Given up first: a renewal answered meanwhile must not start the background work again.
    void leases.repair.stop();
    void repairer.stop();
    stopBackground();
    parts.stop();
    s3?.stop();
    peers?.announcer.stop();
    nodeServer.close();
  };
  let channel: ClusterChannel | null = null;
  let relay: EventRelay | null = null;
  const closeStore = async (): Promise<void> => {
    await crypto.close();
    await leases.stop();
    relay?.stop();
    await channel?.close();
    await metadata.close();
    lock.release();
  };
  channel = await clusterStores.openChannel().catch(async (err: unknown) => {
    stopServices();
    await closeStore();
    throw err;
  });
  relay = channel && new EventRelay(gatewayId, events, channel, registry, metadata);
  relay?.start();
  const { server, url, port } = await serveGateway(app.fetch, config, nodeServer).catch(async (err: unknown) => {
    stopServices();
    await closeStore();
    throw err;
  });
  const s3Server =
    s3 && config.s3Port !== undefined
      ? await s3
          .start()
          .then(() => listen(s3.fetch, { ...config, port: config.s3Port! }))
          .catch(async (err: unknown) => {
            stopServices();
            server.closeAllConnections();
            server.close();
            await closeStore();
            throw err;
          })
      : null;
  lock.listening(url);
  const self = { id: gatewayId, url: config.publicUrl ?? browserUrl(url) };
  const leaveCluster = await announceGateway(clusterStores.directory, self, () => {
    const message =
      `another gateway registered under this gateway's id ${gatewayId} (was ${config.dataDir} copied from another gateway's, gateway-id and all?): ` +
      `stop this one, delete ${config.dataDir}/gateway-id and start it again, so that each gateway has an id of its own`;
    for (const listener of warnings) listener(message);
  });
  await peers?.announcer.start(self);
  peers?.liveness.start();
  return {
    url,
    port,
    config,
    clusterId: cluster.id,
    gatewayId,
    gateways: clusterStores.directory,
    lease: leases.repair,
    adminToken,
    s3Url: s3Server ? url.replace(/:\d+$/, `:${(s3Server.address() as AddressInfo).port}`) : undefined,
    async loginLink() {
      const token = await auth.tokens.authenticate(adminToken);
      if (!token) throw new ShoalError('UNAUTHORIZED', `the token in ${config.dataDir}/admin-token was revoked: restart the gateway for a new one`);
      const { code } = auth.loginCodes.create(token.id);
      return `${browserUrl(url)}/login#code=${code}`;
    },
    onWarning: (listener) => void warnings.add(listener),
    events,
    registry,
    status,
    async close() {
      stopServices();
      server.closeAllConnections();
      s3Server?.closeAllConnections();
      await Promise.all([server, s3Server].map((open) => open && new Promise<void>((resolve) => open.close(() => resolve()))));
      await peers?.liveness.stop();
      await leaveCluster();
      await closeStore();
    },
  };
}

/** `url` under a name a browser may use: a gateway listening on every address is reached on loopback here. */
function browserUrl(url: string): string {
  return url.replace(/^(https?:\/\/)(0\.0\.0\.0|\[::\])(?=:)/, '$1127.0.0.1');
}

/**
 * The node side of a data directory's metadata, which serving and recovery both run: nodes
 * connect, prove who they are, report their inventories (whose unrecorded copies go to
 * `unreferenced`), and are read from and written to through the ReplicaStore. With `peers`
 * (serving, not recovery), nodes are told of the cluster's other gateways and their liveness is
 * judged with them.
 */
export function connectNodes(
  config: GatewayConfig,
  metadata: MetadataStore,
  unreferenced: UnreferencedCopies,
  options: Pick<NodeServerOptions, 'clusterId' | 'onForeignCluster' | 'maxChunkBytes' | 'origins' | 'bulk'> & {
    peers?: { gatewayId: string; listing: GatewayListing };
    /** Where chunk locks meet other gateways' on a shared database (lease/chunk-claims.ts). */
    claims?: ChunkClaims | null;
  },
) {
  const { peers: cluster, ...serverOptions } = options;
  const events = new EventBus();
  const registry = new NodeRegistry(metadata, events);
  const peers = cluster && {
    announcer: new GatewayAnnouncer(cluster.gatewayId, registry, cluster.listing, config.heartbeatMs),
    liveness: new JointLiveness(cluster.gatewayId, registry, openNodePresence(metadata), { intervalMs: config.heartbeatMs, offlineAfterMs: config.offlineAfterMs }),
  };
  const trust = new NodeTrust(metadata, registry);
  const replicas = new ReplicaStore(registry, metadata, events, new ChunkLocks(options.claims ?? null), unreferenced, trust);
  const admission = new Admission(metadata, loadJoinSecret(config.dataDir));
  const nodeServer = new NodeServer(registry, metadata, admission, new InventoryReconciler(metadata, replicas, unreferenced), {
    ...serverOptions,
    heartbeatMs: config.heartbeatMs,
    offlineAfterMs: config.offlineAfterMs,
    helloTimeoutMs: 10_000,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInFlightDisk: config.maxInFlightDisk,
    maxInFlightBrowser: config.maxInFlightBrowser,
    gateways: peers?.announcer,
  });
  return { events, registry, trust, replicas, nodeServer, peers };
}

/** Listens on --host and --port, handing nodes' WebSockets to `nodeServer`; says where it listens. */
export async function serveGateway(
  fetch: (req: Request) => Response | Promise<Response>,
  config: GatewayConfig,
  nodeServer: NodeServer,
): Promise<{ server: Server; url: string; port: number }> {
  const server = await listen(fetch, config);
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === NODE_WS_PATH) nodeServer.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = config.tlsCert ? 'https' : 'http';
  return { server, url: `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, port };
}

function listen(fetch: (req: Request) => Response | Promise<Response>, config: GatewayConfig): Promise<Server> {
  return new Promise((resolve, reject) => {
    const serverOptions = {
      // No limit on a whole request: an upload that keeps arriving may take hours. A body that
      // stops is ended by the upload's idle timeout instead (UploadAdmission).
      requestTimeout: 0,
      headersTimeout: config.headersTimeoutMs,
      // How often Node checks the headers timeout: often enough for a short one to hold.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, config.headersTimeoutMs / 4)),
      ...(config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : {}),
    };
    const server = serve({
      fetch,
      port: config.port,
      hostname: config.host,
      serverOptions,
      ...(config.tlsCert ? { createServer: createHttpsServer } : {}),
    }) as Server;
    // `Expect: 100-continue`: the client waits before sending its body, so the 100 goes out only
    // when the gateway starts reading it. An upload refused up front (too many, too large) gets its
    // 503 or 507 without sending a byte of its body.
    server.on('checkContinue', (req, res) => {
      const goAhead = (event: string | symbol): void => {
        if (event !== 'data' && event !== 'readable') return;
        req.off('newListener', goAhead);
        if (!res.headersSent) res.writeContinue();
      };
      req.on('newListener', goAhead);
      server.emit('request', req, res);
    });
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ShoalError('CONFLICT', `port ${config.port} on ${config.host} is already in use: stop the other process or pick another --port`));
      else reject(err);
    });
  });
}
