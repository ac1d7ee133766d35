import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ShoalError } from '../../shared/errors.ts';
import { NODE_WS_PATH } from '../../shared/protocol.ts';
import { createApp } from './api/app.ts';
import { gatewayConfig, type GatewayConfig } from './config.ts';
import { EventBus } from './events/event-bus.ts';
import { FileReader } from './files/file-reader.ts';
import { FileWriter } from './files/file-writer.ts';
import { BrowserOrigins } from './browser-origin.ts';
import { loadClusterIdentity } from './cluster-identity.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { ChunkCollector } from './healing/chunk-collector.ts';
import { InventoryReconciler } from './healing/inventory-reconciler.ts';
import { NodeAdmin } from './healing/node-admin.ts';
import { RepairService } from './healing/repair-service.ts';
import { MANIFEST_KEY_FILE, ManifestSeal } from './metadata/manifest.ts';
import type { MetadataStore } from './metadata/metadata-store.ts';
import { Admission } from './nodes/admission.ts';
import { Invites } from './nodes/invites.ts';
import { loadJoinSecret } from './nodes/join-secret.ts';
import { NodeRegistry } from './nodes/node-registry.ts';
import { NodeServer, type NodeServerOptions } from './nodes/node-server.ts';
import { openMetadata } from './open-metadata.ts';
import { ChunkLocks } from './replicas/chunk-locks.ts';
import { NodeTrust } from './replicas/node-trust.ts';
import { ReplicaStore } from './replicas/replica-store.ts';
import { UnreferencedCopies } from './replicas/unreferenced-copies.ts';
import { UploadsInFlight } from './replicas/uploads-in-flight.ts';
import { loadSecret } from './secret-file.ts';
import { ClusterStatus } from './status/cluster-status.ts';

/** A running gateway, and what its embedders (the CLI's terminal view, tests) may look at. */
export interface Gateway {
  url: string;
  port: number;
  config: GatewayConfig;
  clusterId: string;
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
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = DataDirLock.acquire(config.dataDir);
  const cluster = loadClusterIdentity(config.dataDir);
  const metadata = await openMetadata(config.dataDir, cluster.isNew);
  const recoveryNeeded = await metadata.recoveryNeeded();
  if (recoveryNeeded) {
    await metadata.close();
    lock.release();
    throw new ShoalError('CONFLICT', `the metadata must be recovered first (${recoveryNeeded}): run shoal recover --data ${config.dataDir}`);
  }
  const warnings = new Set<(message: string) => void>();
  const warnedClusters = new Set<string>();

  const unreferenced = new UnreferencedCopies();
  const origins = new BrowserOrigins(config);
  const { events, registry, trust, replicas, nodeServer } = connectNodes(config, metadata, unreferenced, {
    origins,
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
    maxChunkBytes: Math.max(config.chunkSize, await metadata.largestChunkSize()),
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
  });
  const uploads = new UploadsInFlight();
  const admin = new NodeAdmin(metadata, registry, events, repair, trust, uploads, config.replicas);
  const status = new ClusterStatus(metadata, registry, repair, collector, admin, config.replicas);

  const seal = new ManifestSeal(loadSecret(config.dataDir, MANIFEST_KEY_FILE, 'manifest_'));
  const writer = new FileWriter(replicas, uploads, registry, metadata, events, { seal, lastVersion: await metadata.largestVersion() }, config);
  // Files stored before manifests existed get theirs once nodes are there to hold them.
  events.subscribe((event) => {
    if (event.type === 'node.joined') writer.writeMissingManifests().catch(() => {});
  });
  const reader = new FileReader(replicas, registry, metadata, { readAhead: config.readAhead, holdMs: config.readerHoldMs });
  const app = createApp({ metadata, registry, events, reader, writer, admin, repair, collector, status, invites: new Invites(metadata), origins, webRoot: config.webRoot });

  repair.start();
  collector.start();
  const stopServices = (): void => {
    repair.stop();
    collector.stop();
    nodeServer.close();
  };
  const closeStore = async (): Promise<void> => {
    await metadata.close();
    lock.release();
  };
  const { server, url, port } = await serveGateway(app.fetch, config, nodeServer).catch(async (err: unknown) => {
    stopServices();
    await closeStore();
    throw err;
  });
  lock.listening(url);
  return {
    url,
    port,
    config,
    clusterId: cluster.id,
    onWarning: (listener) => void warnings.add(listener),
    events,
    registry,
    status,
    async close() {
      stopServices();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeStore();
    },
  };
}

/**
 * The node side of a data directory's metadata, which serving and recovery both run: nodes
 * connect, prove who they are, report their inventories (whose unrecorded copies go to
 * `unreferenced`), and are read from and written to through the ReplicaStore.
 */
export function connectNodes(
  config: GatewayConfig,
  metadata: MetadataStore,
  unreferenced: UnreferencedCopies,
  options: Pick<NodeServerOptions, 'clusterId' | 'onForeignCluster' | 'maxChunkBytes' | 'origins'>,
) {
  const events = new EventBus();
  const registry = new NodeRegistry(metadata, events);
  const trust = new NodeTrust(metadata, registry);
  const replicas = new ReplicaStore(registry, metadata, events, new ChunkLocks(), unreferenced, trust);
  const admission = new Admission(metadata, loadJoinSecret(config.dataDir));
  const nodeServer = new NodeServer(registry, metadata, admission, new InventoryReconciler(metadata, replicas, unreferenced), {
    ...options,
    heartbeatMs: config.heartbeatMs,
    offlineAfterMs: config.offlineAfterMs,
    helloTimeoutMs: 10_000,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInFlightDisk: config.maxInFlightDisk,
    maxInFlightBrowser: config.maxInFlightBrowser,
  });
  return { events, registry, trust, replicas, nodeServer };
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
  return { server, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, port };
}

function listen(fetch: (req: Request) => Response | Promise<Response>, config: GatewayConfig): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: config.port, hostname: config.host }) as Server;
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ShoalError('CONFLICT', `port ${config.port} on ${config.host} is already in use: stop the other process or pick another --port`));
      else reject(err);
    });
  });
}
