import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { ShoalError } from '../../shared/errors.ts';
import { NODE_WS_PATH } from '../../shared/protocol.ts';
import { createApp } from './api/app.ts';
import { gatewayConfig, type GatewayConfig } from './config.ts';
import { EventBus } from './events/event-bus.ts';
import { FileReader } from './files/file-reader.ts';
import { FileWriter } from './files/file-writer.ts';
import { loadClusterIdentity } from './cluster-identity.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { ChunkCollector } from './healing/chunk-collector.ts';
import { InventoryReconciler } from './healing/inventory-reconciler.ts';
import { NodeAdmin } from './healing/node-admin.ts';
import { RepairService } from './healing/repair-service.ts';
import { SqliteMetadataStore } from './metadata/sqlite-metadata-store.ts';
import { Admission } from './nodes/admission.ts';
import { Invites } from './nodes/invites.ts';
import { loadJoinSecret } from './nodes/join-secret.ts';
import { NodeRegistry } from './nodes/node-registry.ts';
import { NodeServer } from './nodes/node-server.ts';
import { ChunkLocks } from './replicas/chunk-locks.ts';
import { NodeTrust } from './replicas/node-trust.ts';
import { ReplicaStore } from './replicas/replica-store.ts';
import { UnreferencedCopies } from './replicas/unreferenced-copies.ts';
import { UploadsInFlight } from './replicas/uploads-in-flight.ts';
import { ClusterStatus } from './status/cluster-status.ts';

/** A running gateway, and what its embedders (the CLI's terminal view, tests) may look at. */
export interface Gateway {
  url: string;
  port: number;
  config: GatewayConfig;
  clusterId: string;
  /** Settles with the reason when the gateway must not go on, e.g. it is in the wrong data directory. */
  fatal: Promise<ShoalError>;
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
  const metadata = await SqliteMetadataStore.open(join(config.dataDir, 'metadata.db'));
  const events = new EventBus();
  let fail!: (err: ShoalError) => void;
  const fatal = new Promise<ShoalError>((resolve) => (fail = resolve));

  const registry = new NodeRegistry(metadata, events);
  const unreferenced = new UnreferencedCopies();
  const trust = new NodeTrust(metadata, registry);
  const replicas = new ReplicaStore(registry, metadata, events, new ChunkLocks(), unreferenced, trust);
  const admission = new Admission(metadata, loadJoinSecret(config.dataDir));
  const nodeServer = new NodeServer(registry, metadata, admission, new InventoryReconciler(metadata, replicas, unreferenced), {
    allowedOrigins: config.allowedOrigins,
    clusterId: cluster.id,
    onForeignCluster: (nodeId, theirs) => {
      // A gateway that has just made a new cluster in an empty directory, while the nodes of an
      // existing one knock, was most likely started on the wrong --data: say so rather than serve.
      if (!cluster.isNew || config.newCluster) return;
      void metadata.listNodes().then((nodes) => {
        if (nodes.length > 0) return;
        fail(
          new ShoalError(
            'CONFLICT',
            `node ${nodeId} of cluster ${theirs} knocked, but ${config.dataDir} held no cluster and this gateway started a new one (${cluster.id}): ` +
              `start the gateway with that cluster's data directory, recover it with shoal recover, or pass --new-cluster to start afresh`,
          ),
        );
      });
    },
    heartbeatMs: config.heartbeatMs,
    offlineAfterMs: config.offlineAfterMs,
    helloTimeoutMs: 10_000,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInFlightDisk: config.maxInFlightDisk,
    maxInFlightBrowser: config.maxInFlightBrowser,
    maxChunkBytes: Math.max(config.chunkSize, await metadata.largestChunkSize()),
  });

  const repair = new RepairService(replicas, registry, metadata, events, {
    replicas: config.replicas,
    repairAfterMs: config.repairAfterMs,
    bytesPerSecond: config.repairBytesPerSec,
    concurrency: 2,
    sweepIntervalMs: Math.min(30_000, Math.max(1000, config.repairAfterMs / 2)),
  });
  const collector = new ChunkCollector(replicas, unreferenced, events, { graceMs: config.gcGraceMs, replicas: config.replicas });
  const uploads = new UploadsInFlight();
  const admin = new NodeAdmin(metadata, registry, events, repair, trust, uploads, config.replicas);
  const status = new ClusterStatus(metadata, registry, repair, collector, admin, config.replicas);

  const writer = new FileWriter(replicas, uploads, registry, metadata, events, config);
  const reader = new FileReader(replicas, metadata, { readAhead: config.readAhead, holdMs: config.readerHoldMs });
  const app = createApp({ metadata, registry, events, reader, writer, admin, repair, status, invites: new Invites(metadata), webRoot: config.webRoot });

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
  const server = await listen(app.fetch, config).catch(async (err: unknown) => {
    stopServices();
    await closeStore();
    throw err;
  });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === NODE_WS_PATH) nodeServer.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  lock.listening(url);
  return {
    url,
    port,
    config,
    clusterId: cluster.id,
    fatal,
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
