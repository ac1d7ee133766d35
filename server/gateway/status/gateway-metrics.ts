import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ClusterHealth, NodeStatus, NodeView } from '../../../shared/api-types.ts';
import type { NodeKind } from '../../../shared/protocol.ts';
import type { ChunkCollector } from '../healing/chunk-collector.ts';
import type { RepairService } from '../healing/repair-service.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ClusterStatus } from './cluster-status.ts';
import { HttpMetrics } from './http-metrics.ts';

export interface MetricsSources {
  status: ClusterStatus;
  registry: NodeRegistry;
  repair: RepairService;
  collector: ChunkCollector;
}

/** Every kind and status, so `shoal_nodes{status="offline"}` reads 0 rather than vanishing when none is. */
const KINDS: readonly NodeKind[] = ['disk', 'browser'];
const STATUSES: readonly NodeStatus[] = ['online', 'draining', 'offline'];

interface Snapshot {
  health: ClusterHealth;
  nodes: NodeView[];
}

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways in one test process
 * do not collide). The cluster's state is read when scraped, once per scrape for every gauge; the
 * healing services' running totals become counters the same way; HTTP and node traffic are
 * counted as they happen.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly http: HttpMetrics;
  readonly #sources: MetricsSources;
  #snapshot: Promise<Snapshot> | undefined;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    this.http = new HttpMetrics(this.registry);
    collectDefaultMetrics({ register: this.registry });
    this.#clusterGauges();
    this.#healingCounters();
    this.#nodeTraffic();
  }

  /** The text exposition format, and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  /** One read of the cluster shared by every gauge of a scrape: prom-client starts all their collects at once. */
  #read(): Promise<Snapshot> {
    this.#snapshot ??= Promise.all([this.#sources.status.health(), this.#sources.registry.views()])
      .then(([health, nodes]) => ({ health, nodes }))
      .finally(() => {
        this.#snapshot = undefined;
      });
    return this.#snapshot;
  }

  #clusterGauges(): void {
    const registers = [this.registry];
    const read = () => this.#read();
    const cluster = (name: string, help: string, value: (health: ClusterHealth) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(value((await read()).health));
        },
      });
    };
    cluster('shoal_files', 'Files stored', (h) => h.files);
    cluster('shoal_chunks', 'Chunks the files refer to', (h) => h.chunks);
    cluster('shoal_chunks_under_replicated', 'Chunks with fewer good copies than the replica target', (h) => h.underReplicatedChunks);
    cluster('shoal_chunks_unavailable', 'Chunks with no readable copy: files that cannot be read whole', (h) => h.unavailableChunks);
    cluster('shoal_replicas_target', 'Copies every chunk should have (R)', (h) => h.replicas);
    cluster('shoal_repair_queue', 'Chunks waiting for repair', (h) => h.repair.queued);
    cluster('shoal_repair_active', 'Chunks being repaired now', (h) => h.repair.active);
    cluster('shoal_collection_pending', 'Copies no file needs, waiting for collection', (h) => h.orphans.pending);

    new Gauge({
      name: 'shoal_nodes',
      help: 'Nodes the cluster knows, by kind and status',
      labelNames: ['kind', 'status'],
      registers,
      async collect() {
        const { nodes } = await read();
        this.reset();
        for (const kind of KINDS) for (const status of STATUSES) this.set({ kind, status }, nodes.filter((n) => n.kind === kind && n.status === status).length);
      },
    });
    const perNode = (name: string, help: string, value: (node: NodeView) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['node', 'kind'],
        registers,
        async collect() {
          const { nodes } = await read();
          this.reset();
          for (const node of nodes) this.set({ node: node.id, kind: node.kind }, value(node));
        },
      });
    };
    perNode('shoal_node_capacity_bytes', 'Bytes a node offers (as it last reported)', (n) => n.capacityBytes);
    perNode('shoal_node_used_bytes', 'Bytes a node holds (as it last reported)', (n) => n.usedBytes);
    perNode('shoal_node_chunks', 'Copies a node holds (as it last reported)', (n) => n.chunkCount);
    perNode('shoal_node_online', '1 while a node is online or draining, 0 while offline', (n) => (n.status === 'offline' ? 0 : 1));
  }

  /** The services keep running totals; a counter reports the latest at each scrape. */
  #healingCounters(): void {
    const { repair, collector } = this.#sources;
    const total = (name: string, help: string, value: () => number): void => {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    };
    total('shoal_repair_copies_made_total', 'Copies repair and rebalancing made', () => repair.stats().done);
    total('shoal_repair_copies_removed_total', 'Surplus copies repair trimmed', () => repair.stats().removed);
    total('shoal_repair_failures_total', 'Repair steps that failed (retried at the next sweep)', () => repair.stats().failed);
    total('shoal_collected_copies_total', 'Copies no file needed that collection deleted', () => collector.collected);
  }

  #nodeTraffic(): void {
    const traffic = this.#sources.registry.traffic;
    const byNode = (name: string, help: string, labelNames: string[], fill: (counter: Counter<string>) => void): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          fill(this);
        },
      });
    };
    byNode('shoal_node_ws_frames_total', 'WebSocket messages between the gateway and each node', ['node', 'direction'], (counter) => {
      for (const [node, t] of traffic.entries()) {
        counter.inc({ node, direction: 'in' }, t.framesIn);
        counter.inc({ node, direction: 'out' }, t.framesOut);
      }
    });
    byNode('shoal_node_ws_bytes_total', 'WebSocket payload bytes between the gateway and each node', ['node', 'direction'], (counter) => {
      for (const [node, t] of traffic.entries()) {
        counter.inc({ node, direction: 'in' }, t.bytesIn);
        counter.inc({ node, direction: 'out' }, t.bytesOut);
      }
    });
    byNode('shoal_node_bulk_bytes_total', 'Chunk bytes between the gateway and each node over HTTP instead of its WebSocket', ['node', 'direction'], (counter) => {
      for (const [node, t] of traffic.entries()) {
        counter.inc({ node, direction: 'in' }, t.bulkBytesIn);
        counter.inc({ node, direction: 'out' }, t.bulkBytesOut);
      }
    });
    byNode('shoal_node_ws_errors_total', 'Requests a node answered with an error or not in time, and sessions closed for protocol errors', ['node'], (counter) => {
      for (const [node, t] of traffic.entries()) counter.inc({ node }, t.errors);
    });
  }
}
