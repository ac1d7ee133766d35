import type { FileHealth } from '../../../shared/api-types.ts';
import type { ChunkRecord, FileRecord } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';

/** How many of a chunk's recorded copies can be read now. */
export function readableCopies(registry: NodeRegistry, chunk: ChunkRecord | undefined): number {
  return chunk ? chunk.nodeIds.filter((id) => registry.readable(id)).length : 0;
}

/** ok: every chunk has its full replica count readable; degraded: every chunk readable; unavailable: some chunk is not. */
export function fileHealth(registry: NodeRegistry, file: FileRecord, chunks: Map<string, ChunkRecord>): FileHealth {
  let health: FileHealth = 'ok';
  for (const hash of file.chunks) {
    const readable = readableCopies(registry, chunks.get(hash));
    if (readable === 0) return 'unavailable';
    if (readable < file.replicas) health = 'degraded';
  }
  return health;
}

/** Chunks with fewer than `replicas` copies readable, and those with none at all. */
export function replicationCounts(registry: NodeRegistry, replicas: number, chunks: ChunkRecord[]): { underReplicated: number; unavailable: number } {
  let underReplicated = 0;
  let unavailable = 0;
  for (const chunk of chunks) {
    const readable = readableCopies(registry, chunk);
    if (readable < replicas) underReplicated++;
    if (readable === 0) unavailable++;
  }
  return { underReplicated, unavailable };
}
