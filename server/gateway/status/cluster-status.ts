import type { ClusterHealth, FileListing, FilePage, NodeInfo } from '../../../shared/api-types.ts';
import type { ChunkCollector } from '../healing/chunk-collector.ts';
import type { NodeAdmin } from '../healing/node-admin.ts';
import type { RepairService } from '../healing/repair-service.ts';
import type { FilePageQuery, FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import { fileHealth, replicationSummary } from '../replicas/replica-counts.ts';

/** What the cluster looks like now, for the API, the dashboard and the terminal. */
export class ClusterStatus {
  readonly #metadata: MetadataStore;
  readonly #registry: NodeRegistry;
  readonly #repair: RepairService;
  readonly #collector: ChunkCollector;
  readonly #admin: NodeAdmin;
  readonly #replicas: number;

  constructor(metadata: MetadataStore, registry: NodeRegistry, repair: RepairService, collector: ChunkCollector, admin: NodeAdmin, replicas: number) {
    this.#metadata = metadata;
    this.#registry = registry;
    this.#repair = repair;
    this.#collector = collector;
    this.#admin = admin;
    this.#replicas = replicas;
  }

  async health(): Promise<ClusterHealth> {
    // Views, not metadata records: an online node's usage lives in memory until it leaves.
    const [nodes, counts] = await Promise.all([this.#registry.views(), replicationSummary(this.#metadata, this.#registry, this.#replicas)]);
    const nodesOnline = nodes.filter((n) => this.#registry.alive(n.id)).length;
    // An offline node's space cannot be written to or read from now: totals count reachable nodes only.
    const reachable = nodes.filter((n) => n.status !== 'offline');
    const { underReplicated: underReplicatedChunks, unavailable: unavailableChunks } = counts;
    const status = unavailableChunks > 0 ? 'unavailable' : underReplicatedChunks > 0 || nodesOnline < this.#replicas ? 'degraded' : 'ok';
    return {
      status,
      nodesOnline,
      nodesTotal: nodes.length,
      files: counts.files,
      chunks: counts.chunks,
      underReplicatedChunks,
      unavailableChunks,
      replicas: this.#replicas,
      repair: this.#repair.stats(),
      orphans: { pending: this.#collector.pending, collected: this.#collector.collected, paused: this.#collector.paused },
      capacityBytes: reachable.reduce((sum, n) => sum + n.capacityBytes, 0),
      usedBytes: reachable.reduce((sum, n) => sum + n.usedBytes, 0),
    };
  }

  /** A page of the listing, each file with its health. */
  async files(query: FilePageQuery): Promise<FilePage> {
    const page = await this.#metadata.listFilePage(query);
    return { ...page, files: await this.#withHealth(page.files) };
  }

  async #withHealth(files: FileRecord[]): Promise<FileListing[]> {
    const chunks = await this.#metadata.getChunks([...new Set(files.flatMap((f) => f.chunks.map((c) => c.hash)))]);
    return files.map((file) => ({ ...file, chunks: file.chunks.length, health: fileHealth(this.#registry, file, chunks) }));
  }

  async nodes(): Promise<NodeInfo[]> {
    const [views, safety] = await Promise.all([this.#registry.views(), this.#admin.safety()]);
    return views.map((node) => ({ ...node, ...(safety.get(node.id) ?? { recordedChunks: 0, atRiskChunks: 0 }) }));
  }
}
