import type { GatewayContext } from './context.ts';

/**
 * Removes chunks that no file references any more from the nodes holding them, then forgets them.
 * A node that is offline keeps its copy until reconciliation reports it as an orphan when it returns.
 */
export async function deleteChunksFromNodes(ctx: GatewayContext, hashes: string[]): Promise<void> {
  await ctx.pins.locked(hashes, async () => {
    const unpinned = hashes.filter((hash) => !ctx.pins.has(hash));
    if (unpinned.length === 0) return;
    const chunks = await ctx.metadata.getChunks(unpinned);
    const forgotten = await ctx.metadata.forgetUnreferenced(unpinned);
    const byNode = new Map<string, string[]>();
    for (const hash of forgotten) {
      for (const nodeId of chunks.get(hash)?.nodeIds ?? []) {
        byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), hash]);
      }
    }
    await Promise.all(
      [...byNode].map(async ([nodeId, nodeHashes]) => {
        try {
          const link = ctx.registry.get(nodeId);
          if (!link) throw new Error('offline');
          await link.delete(nodeHashes);
        } catch {
          // The metadata has forgotten these chunks, so only the collector can still remove them.
          ctx.orphans.note(nodeId, nodeHashes);
        }
      }),
    );
  });
}
