import type { EventBus } from './events.ts';
import type { MetadataStore } from './metadata-store.ts';
import type { NodeRegistry } from './node-registry.ts';
import type { OrphanCollector } from './orphan-collector.ts';
import type { PinSet } from './pins.ts';
import type { RepairService } from './repair.ts';
import type { Replicator } from './replicator.ts';

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
  /** Built web app to serve; absent means a placeholder page. */
  webRoot?: string;
}

/** What the gateway's modules share; built once in main.ts. */
export interface GatewayContext {
  config: GatewayConfig;
  metadata: MetadataStore;
  registry: NodeRegistry;
  events: EventBus;
  pins: PinSet;
  replicator: Replicator;
  repair: RepairService;
  orphans: OrphanCollector;
  /** A node could not produce a chunk it was recorded as holding. */
  replicaLost(hash: string, nodeId: string, reason: string): Promise<void>;
}
