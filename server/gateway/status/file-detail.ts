import type { ChunkDetail, CopyState, FileDetail, NodeStatus } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { NodeTrust } from '../replicas/node-trust.ts';
import { fileHealth, readableCopies } from '../replicas/replica-counts.ts';

/** Where each chunk of a file lives and which copies can be read: the files page's detail view. */
export class FileDetails {
  readonly #metadata: MetadataStore;
  readonly #registry: NodeRegistry;
  readonly #trust: NodeTrust;

  constructor(metadata: MetadataStore, registry: NodeRegistry, trust: NodeTrust) {
    this.#metadata = metadata;
    this.#registry = registry;
    this.#trust = trust;
  }

  async detail(name: string): Promise<FileDetail> {
    const file = await this.#metadata.getFile(name);
    if (!file) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(name)}`);
    const [records, views] = await Promise.all([this.#metadata.getChunks([...new Set(file.chunks.map((c) => c.hash))]), this.#registry.views()]);
    const statusOf = new Map<string, NodeStatus>(views.map((v) => [v.id, v.status]));
    const waitingFor = new Set<string>();
    const chunks = file.chunks.map(({ hash, size }, index): ChunkDetail => {
      const record = records.get(hash);
      const nodeIds = record?.nodeIds ?? [];
      const readable = readableCopies(this.#registry, record);
      if (readable === 0) for (const id of nodeIds) waitingFor.add(id);
      const copies = nodeIds.map((nodeId) => ({ nodeId, state: this.#copyState(nodeId, hash, statusOf) }));
      return {
        index,
        hash,
        size,
        health: readable === 0 ? 'unavailable' : readable < file.replicas ? 'degraded' : 'ok',
        copies,
        missing: Math.max(0, file.replicas - readable),
      };
    });
    return {
      file: { ...file, chunks: file.chunks.length, health: fileHealth(this.#registry, file, records) },
      chunks,
      waitingFor: [...waitingFor].sort(),
    };
  }

  #copyState(nodeId: string, hash: string, statusOf: Map<string, NodeStatus>): CopyState {
    if (this.#trust.isSuspect(nodeId, hash)) return 'suspect';
    return statusOf.get(nodeId) ?? 'offline';
  }
}
