import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { ShoalError } from '../../shared/errors.ts';
import { MAX_CHUNK_BYTES, NODE_WS_PATH } from '../../shared/protocol.ts';
import type { GatewayConfig, GatewayContext } from './context.ts';
import { EventBus } from './events.ts';
import { createApi } from './http-api.ts';
import { NodeRegistry } from './node-registry.ts';
import { PinSet } from './pins.ts';
import { OrphanCollector } from './orphan-collector.ts';
import { reconcileInventory } from './reconcile.ts';
import { RepairService } from './repair.ts';
import { Replicator } from './replicator.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';
import { mountWebApp } from './static.ts';

const MiB = 1024 * 1024;

export const DEFAULT_GATEWAY_CONFIG: GatewayConfig = {
  host: '127.0.0.1',
  port: 8000,
  dataDir: './shoal-data',
  replicas: 2,
  chunkSize: 4 * MiB,
  maxFileBytes: 1024 ** 4,
  uploadWindow: 4,
  readAhead: 2,
  heartbeatMs: 5000,
  offlineAfterMs: 15_000,
  requestTimeoutMs: 30_000,
  maxInFlightDisk: 8,
  maxInFlightBrowser: 2,
  repairAfterMs: 60_000,
  repairBytesPerSec: 64 * MiB,
  gcGraceMs: 10 * 60_000,
};

export interface Gateway {
  ctx: GatewayContext;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startGateway(overrides: Partial<GatewayConfig> = {}): Promise<Gateway> {
  const config: GatewayConfig = { ...DEFAULT_GATEWAY_CONFIG, ...overrides };
  if (!Number.isInteger(config.replicas) || config.replicas < 1) throw new ShoalError('BAD_REQUEST', 'replicas must be a positive integer');
  if (!(config.chunkSize >= 64 * 1024 && config.chunkSize <= MAX_CHUNK_BYTES)) {
    throw new ShoalError('BAD_REQUEST', `chunk size must be between 64 KiB and ${MAX_CHUNK_BYTES / MiB} MiB`);
  }
  mkdirSync(config.dataDir, { recursive: true });
  const metadata = await SqliteMetadataStore.open(join(config.dataDir, 'metadata.db'));
  const events = new EventBus();
  const registry = new NodeRegistry(metadata, events, {
    heartbeatMs: config.heartbeatMs,
    offlineAfterMs: config.offlineAfterMs,
    helloTimeoutMs: 10_000,
    requestTimeoutMs: config.requestTimeoutMs,
    maxInFlightDisk: config.maxInFlightDisk,
    maxInFlightBrowser: config.maxInFlightBrowser,
  });
  // Repair and collection need the context they belong to, so they join it once it exists.
  const base: Omit<GatewayContext, 'repair' | 'orphans'> = {
    config,
    metadata,
    registry,
    events,
    pins: new PinSet(),
    replicator: new Replicator(registry),
    async replicaLost(hash: string, nodeId: string, reason: string) {
      await metadata.removeReplica(hash, nodeId);
      events.publish({ type: 'replica.lost', hash, nodeId, reason });
      ctx.repair.sweepSoon();
    },
  };
  const ctx = base as GatewayContext;
  ctx.repair = new RepairService(ctx, {
    repairAfterMs: config.repairAfterMs,
    bytesPerSecond: config.repairBytesPerSec,
    concurrency: 2,
    sweepIntervalMs: Math.min(30_000, Math.max(1000, config.repairAfterMs / 2)),
  });
  ctx.orphans = new OrphanCollector(ctx, config.gcGraceMs);
  registry.onReports({
    async inventory(link, hashes) {
      await reconcileInventory(ctx, link, hashes);
    },
    async corrupt(link, hashes) {
      for (const hash of hashes) await ctx.replicaLost(hash, link.id, 'CHUNK_CORRUPT (scrub)');
    },
  });
  ctx.repair.start();
  ctx.orphans.start();

  const app = createApi(ctx);
  mountWebApp(app, config.webRoot);
  const server = await listen(app.fetch, config);
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === NODE_WS_PATH) registry.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  return {
    ctx,
    port,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      ctx.repair.stop();
      ctx.orphans.stop();
      registry.close();
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
