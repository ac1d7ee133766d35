import { ShoalError } from '../../shared/errors.ts';
import { CLOSE } from '../../shared/protocol.ts';
import type { GatewayContext } from './context.ts';

export interface NodeSafety {
  /** Chunks the metadata records on this node. */
  recordedChunks: number;
  /** Of those, how many would drop below R good replicas without this node. */
  atRiskChunks: number;
}

/** For every node: how much it holds, and how much would be lost or weakened if it vanished now. */
export async function nodeSafety(ctx: GatewayContext): Promise<Map<string, NodeSafety>> {
  const { registry, config } = ctx;
  const safety = new Map<string, NodeSafety>();
  for (const chunk of await ctx.metadata.listChunks()) {
    for (const id of chunk.nodeIds) {
      const entry = safety.get(id) ?? { recordedChunks: 0, atRiskChunks: 0 };
      entry.recordedChunks++;
      if (chunk.nodeIds.filter((other) => other !== id && registry.isGood(other)).length < config.replicas) entry.atRiskChunks++;
      safety.set(id, entry);
    }
  }
  return safety;
}

/** A draining node serves reads but takes no new replicas; repair moves its chunks off it. */
export async function setDraining(ctx: GatewayContext, id: string, draining: boolean): Promise<void> {
  const record = await ctx.metadata.getNode(id);
  if (!record) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(id)}`);
  await ctx.metadata.upsertNode({ ...record, draining });
  const link = ctx.registry.get(id);
  if (link) link.draining = draining;
  const node = await ctx.registry.view(id);
  if (node) ctx.events.publish({ type: 'node.stats', node });
  ctx.repair.sweepSoon(0);
}

/**
 * Forgets a node. Refused while some chunk would be left with fewer than R good replicas, unless
 * forced; repair then rebuilds whatever the node held from the copies that remain.
 */
export async function removeNode(ctx: GatewayContext, id: string, force: boolean): Promise<void> {
  if (!(await ctx.metadata.getNode(id))) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(id)}`);
  const safety = (await nodeSafety(ctx)).get(id);
  if (safety && safety.atRiskChunks > 0 && !force) {
    throw new ShoalError(
      'NODE_NOT_SAFE_TO_REMOVE',
      `node ${id} holds ${safety.atRiskChunks} chunk(s) that would have fewer than ${ctx.config.replicas} good replicas without it: drain it first, or force`,
    );
  }
  ctx.registry.disconnect(id, CLOSE.REMOVED, 'node removed from the cluster');
  await ctx.metadata.removeNode(id);
  ctx.events.publish({ type: 'node.removed', nodeId: id });
  ctx.repair.sweepSoon(0);
}
