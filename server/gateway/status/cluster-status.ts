import type { ClusterHealth, FileListing, NodeInfo } from '../../../shared/api-types.ts';
import type { ChunkCollector } from '../healing/chunk-collector.ts';
import type { NodeAdmin } from '../healing/node-admin.ts';
import type { RepairService } from '../healing/repair-service.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import { fileHealth, replicationCounts } from '../replicas/replica-counts.ts';

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
    const [nodes, files, chunks] = await Promise.all([this.#registry.views(), this.#metadata.listFiles(), this.#metadata.listChunks()]);
    const nodesOnline = nodes.filter((n) => this.#registry.readable(n.id)).length;
    const { underReplicated: underReplicatedChunks, unavailable: unavailableChunks } = replicationCounts(this.#registry, this.#replicas, chunks);
    const status = unavailableChunks > 0 ? 'unavailable' : underReplicatedChunks > 0 || nodesOnline < this.#replicas ? 'degraded' : 'ok';
    return {
      status,
      nodesOnline,
      nodesTotal: nodes.length,
      files: files.length,
      chunks: chunks.length,
      underReplicatedChunks,
      unavailableChunks,
      replicas: this.#replicas,
      repair: this.#repair.stats(),
      orphans: { pending: this.#collector.pending, collected: this.#collector.collected, paused: this.#collector.paused },
      capacityBytes: nodes.reduce((sum, n) => sum + n.capacityBytes, 0),
      usedBytes: nodes.reduce((sum, n) => sum + n.usedBytes, 0),
    };
  }

  async files(): Promise<FileListing[]> {
    const files = await this.#metadata.listFiles();
    const chunks = await this.#metadata.getChunks([...new Set(files.flatMap((f) => f.chunks))]);
    return files.map((file) => ({ ...file, chunks: file.chunks.length, health: fileHealth(this.#registry, file, chunks) }));
  }

  async nodes(): Promise<NodeInfo[]> {
    const [views, safety] = await Promise.all([this.#registry.views(), this.#admin.safety()]);
    return views.map((node) => ({ ...node, ...(safety.get(node.id) ?? { recordedChunks: 0, atRiskChunks: 0 }) }));
  }
}
