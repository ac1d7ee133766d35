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
import { ReplicaStore } from './replicas/replica-store.ts';
import { UnreferencedCopies } from './replicas/unreferenced-copies.ts';
import { ClusterStatus } from './status/cluster-status.ts';

/** A running gateway, and what its embedders (the CLI's terminal view, tests) may look at. */
export interface Gateway {
  url: string;
  port: number;
  config: GatewayConfig;
  events: EventBus;
  registry: NodeRegistry;
  status: ClusterStatus;
  close(): Promise<void>;
}

/** The composition root: builds every service with the collaborators it uses, bottom layer first. */
export async function startGateway(overrides: Partial<GatewayConfig> = {}): Promise<Gateway> {
  const config = gatewayConfig(overrides);
  mkdirSync(config.dataDir, { recursive: true });
  const metadata = await SqliteMetadataStore.open(join(config.dataDir, 'metadata.db'));
  const events = new EventBus();

  const registry = new NodeRegistry(metadata, events);
  const unreferenced = new UnreferencedCopies();
  const replicas = new ReplicaStore(registry, metadata, events, new ChunkLocks(), unreferenced);
  const admission = new Admission(metadata, loadJoinSecret(config.dataDir));
  const nodeServer = new NodeServer(registry, metadata, admission, new InventoryReconciler(metadata, replicas, unreferenced), {
    allowedOrigins: config.allowedOrigins,
    heartbeatMs: config.heartbeatMs,
    offlineAfterMs: config.offlineAfterMs,
    helloTimeoutMs: 10_000,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInFlightDisk: config.maxInFlightDisk,
    maxInFlightBrowser: config.maxInFlightBrowser,
  });

  const repair = new RepairService(replicas, registry, metadata, events, {
    replicas: config.replicas,
    repairAfterMs: config.repairAfterMs,
    bytesPerSecond: config.repairBytesPerSec,
    concurrency: 2,
    sweepIntervalMs: Math.min(30_000, Math.max(1000, config.repairAfterMs / 2)),
  });
  const collector = new ChunkCollector(replicas, unreferenced, events, config.gcGraceMs);
  const admin = new NodeAdmin(metadata, registry, events, repair, config.replicas);
  const status = new ClusterStatus(metadata, registry, repair, collector, admin, config.replicas);

  const writer = new FileWriter(replicas, registry, metadata, events, config);
  const reader = new FileReader(replicas, metadata, config.readAhead);
  const app = createApp({ metadata, registry, events, reader, writer, admin, repair, status, invites: new Invites(metadata), webRoot: config.webRoot });

  repair.start();
  collector.start();
  const server = await listen(app.fetch, config);
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === NODE_WS_PATH) nodeServer.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    port,
    config,
    events,
    registry,
    status,
    async close() {
      repair.stop();
      collector.stop();
      nodeServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metadata.close();
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
