import type { GatewayContext } from './context.ts';
import type { NodeLink } from './node-link.ts';

/**
 * Brings the metadata in line with what a node reports it holds: the node's inventory is the truth
 * about its own disk, the metadata the truth about what files need. Replicas it lost are rebuilt by
 * repair; chunks no file needs become candidates for collection; surplus copies are trimmed by the
 * sweep that follows.
 */
export async function reconcileInventory(ctx: GatewayContext, link: NodeLink, hashes: string[]): Promise<void> {
  const { unknown } = await ctx.metadata.reconcileNode(link.id, hashes);
  ctx.orphans.note(link.id, unknown);
  ctx.repair.sweepSoon();
}
