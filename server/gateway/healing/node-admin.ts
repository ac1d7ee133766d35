import type { NodeSafety } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { RepairService } from './repair-service.ts';

/** What an operator does to nodes: drain them, take them back, remove them, and ask how safe that is. */
export class NodeAdmin {
  readonly #metadata: MetadataStore;
  readonly #registry: NodeRegistry;
  readonly #events: EventBus;
  readonly #repair: RepairService;
  readonly #replicas: number;

  constructor(metadata: MetadataStore, registry: NodeRegistry, events: EventBus, repair: RepairService, replicas: number) {
    this.#metadata = metadata;
    this.#registry = registry;
    this.#events = events;
    this.#repair = repair;
    this.#replicas = replicas;
  }

  /** For every node: how much it holds, and how much would be lost or weakened if it vanished now. */
  async safety(): Promise<Map<string, NodeSafety>> {
    const safety = new Map<string, NodeSafety>();
    for (const chunk of await this.#metadata.listChunks()) {
      for (const id of chunk.nodeIds) {
        const entry = safety.get(id) ?? { recordedChunks: 0, atRiskChunks: 0 };
        entry.recordedChunks++;
        if (chunk.nodeIds.filter((other) => other !== id && this.#registry.writable(other)).length < this.#replicas) entry.atRiskChunks++;
        safety.set(id, entry);
      }
    }
    return safety;
  }

  /** A draining node serves reads but takes no new replicas; repair moves its chunks off it. */
  async setDraining(id: string, draining: boolean): Promise<void> {
    const record = await this.#metadata.getNode(id);
    if (!record) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(id)}`);
    await this.#metadata.upsertNode({ ...record, draining });
    this.#registry.link(id)?.setDraining(draining);
    await this.#registry.publish('node.stats', id);
    this.#repair.sweepSoon(0);
  }

  /** Asks every node that can be read to scrub now rather than at its next interval; names them. */
  requestScrub(): string[] {
    const links = this.#registry.readableLinks();
    for (const link of links) link.send({ type: 'scrub' });
    return links.map((link) => link.id);
  }

  /**
   * Forgets a node. Refused while some chunk would be left with fewer than R good replicas, unless
   * forced; repair then rebuilds whatever the node held from the copies that remain.
   */
  async remove(id: string, force: boolean): Promise<void> {
    if (!(await this.#metadata.getNode(id))) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(id)}`);
    const safety = (await this.safety()).get(id);
    if (safety && safety.atRiskChunks > 0 && !force) {
      throw new ShoalError(
        'NODE_NOT_SAFE_TO_REMOVE',
        `node ${id} holds ${safety.atRiskChunks} chunk(s) that would have fewer than ${this.#replicas} good replicas without it: drain it first, or force`,
      );
    }
    this.#registry.disconnect(id, CLOSE.REMOVED, 'node removed from the cluster');
    await this.#metadata.removeNode(id);
    this.#events.publish({ type: 'node.removed', nodeId: id });
  }
}
