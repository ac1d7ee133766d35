import type { FileHealth } from '../../../shared/api-types.ts';
import type { ChunkRecord, FileRecord, MetadataStore, ReplicationSummary } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';

/** How many of a chunk's recorded copies can be read now. */
export function readableCopies(registry: NodeRegistry, chunk: ChunkRecord | undefined): number {
  return chunk ? chunk.nodeIds.filter((id) => registry.readable(id)).length : 0;
}

/**
 * ok: every chunk has its full replica count on nodes some gateway hears; degraded: every chunk has
 * one; unavailable: some chunk has none. The cluster's view, alike on every gateway.
 */
export function fileHealth(registry: NodeRegistry, file: FileRecord, chunks: Map<string, ChunkRecord>): FileHealth {
  let health: FileHealth = 'ok';
  for (const { hash } of file.chunks) {
    const readable = chunks.get(hash)?.nodeIds.filter((id) => registry.alive(id)).length ?? 0;
    if (readable === 0) return 'unavailable';
    if (readable < file.replicas) health = 'degraded';
  }
  return health;
}

/** Health's counts, made by the database: copies on the nodes some gateway hears now count. */
export function replicationSummary(metadata: MetadataStore, registry: NodeRegistry, replicas: number): Promise<ReplicationSummary> {
  return metadata.replicationSummary(registry.aliveIds(), replicas);
}
