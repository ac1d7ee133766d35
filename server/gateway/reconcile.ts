import type { GatewayContext } from './context.ts';
import type { NodeLink } from './node-link.ts';

export interface ReconcileResult {
  /** Recorded on the node, but the node no longer has them. */
  missing: string[];
  /** Held by the node and needed by a file, now recorded. */
  adopted: string[];
  /** Held by the node but needed by no file. */
  unknown: string[];
}

/**
 * Brings the metadata in line with what a node reports it holds: the node's inventory is the truth
 * about its own disk, the metadata the truth about what files need. Replicas it lost are rebuilt by
 * repair; chunks no file needs become candidates for collection; surplus copies are trimmed by the
 * sweep that follows.
 */
export async function reconcileInventory(ctx: GatewayContext, link: NodeLink, hashes: string[]): Promise<ReconcileResult> {
  const held = new Set(hashes);
  const recorded = new Set(await ctx.metadata.chunksOnNode(link.id));
  const missing = [...recorded].filter((hash) => !held.has(hash));
  for (const hash of missing) await ctx.metadata.removeReplica(hash, link.id);
  const unrecorded = hashes.filter((hash) => !recorded.has(hash));
  const known = await ctx.metadata.referenced(unrecorded);
  const adopted: string[] = [];
  const unknown: string[] = [];
  for (const hash of unrecorded) {
    if (known.has(hash)) {
      await ctx.metadata.addReplica(hash, link.id);
      adopted.push(hash);
    } else {
      unknown.push(hash);
    }
  }
  ctx.orphans.note(link.id, unknown);
  ctx.repair.sweepSoon();
  return { missing, adopted, unknown };
}
