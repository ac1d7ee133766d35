import type { ClusterHealth, FileHealth } from '../../shared/api-types.ts';
import type { GatewayContext } from './context.ts';
import type { ChunkRecord, FileRecord } from './metadata-store.ts';

/** How many of a chunk's replicas sit on nodes that are online now. */
export function onlineReplicas(ctx: GatewayContext, chunk: ChunkRecord | undefined): number {
  return chunk ? chunk.nodeIds.filter((id) => ctx.registry.isOnline(id)).length : 0;
}

/** ok: every chunk has its full replica count online; degraded: every chunk readable; unavailable: some chunk is not. */
export function fileHealth(ctx: GatewayContext, file: FileRecord, chunks: Map<string, ChunkRecord>): FileHealth {
  let health: FileHealth = 'ok';
  for (const hash of file.chunks) {
    const online = onlineReplicas(ctx, chunks.get(hash));
    if (online === 0) return 'unavailable';
    if (online < file.replicas) health = 'degraded';
  }
  return health;
}

/** Chunks with fewer than R replicas online, and those with none at all. */
export function replicationCounts(ctx: GatewayContext, chunks: ChunkRecord[]): { underReplicated: number; unavailable: number } {
  let underReplicated = 0;
  let unavailable = 0;
  for (const chunk of chunks) {
    const online = onlineReplicas(ctx, chunk);
    if (online < ctx.config.replicas) underReplicated++;
    if (online === 0) unavailable++;
  }
  return { underReplicated, unavailable };
}

export async function clusterHealth(ctx: GatewayContext): Promise<ClusterHealth> {
  // Views, not metadata records: an online node's usage lives in memory until it leaves.
  const [nodes, files, chunks] = await Promise.all([ctx.registry.views(), ctx.metadata.listFiles(), ctx.metadata.listChunks()]);
  const nodesOnline = nodes.filter((n) => ctx.registry.isOnline(n.id)).length;
  const { underReplicated: underReplicatedChunks, unavailable: unavailableChunks } = replicationCounts(ctx, chunks);
  const status = unavailableChunks > 0 ? 'unavailable' : underReplicatedChunks > 0 || nodesOnline < ctx.config.replicas ? 'degraded' : 'ok';
  return {
    status,
    nodesOnline,
    nodesTotal: nodes.length,
    files: files.length,
    chunks: chunks.length,
    underReplicatedChunks,
    unavailableChunks,
    replicas: ctx.config.replicas,
    repair: ctx.repair.stats(),
    orphans: { pending: ctx.orphans.pending, collected: ctx.orphans.collected },
    capacityBytes: nodes.reduce((sum, n) => sum + n.capacityBytes, 0),
    usedBytes: nodes.reduce((sum, n) => sum + n.usedBytes, 0),
  };
}
