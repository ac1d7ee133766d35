import type { NodeSafety } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { CLOSE } from '../../../shared/protocol.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { NodeTrust } from '../replicas/node-trust.ts';
import type { UploadsInFlight } from '../replicas/uploads-in-flight.ts';
import type { RepairService } from './repair-service.ts';

/** What an operator does to nodes: drain them, take them back, trust them again, remove them, and ask how safe that is. */
export class NodeAdmin {
  readonly #metadata: MetadataStore;
  readonly #registry: NodeRegistry;
  readonly #events: EventBus;
  readonly #repair: RepairService;
  readonly #trust: NodeTrust;
  readonly #uploads: UploadsInFlight;
  readonly #replicas: number;

  constructor(metadata: MetadataStore, registry: NodeRegistry, events: EventBus, repair: RepairService, trust: NodeTrust, uploads: UploadsInFlight, replicas: number) {
    this.#metadata = metadata;
    this.#registry = registry;
    this.#events = events;
    this.#repair = repair;
    this.#trust = trust;
    this.#uploads = uploads;
    this.#replicas = replicas;
  }

  /**
   * For every node: how much it holds, and how much would be lost or weakened if it vanished now.
   * The database counts the recorded copies; the few chunks that uploads in flight have written
   * copies of are counted again here with those copies too: they are about to be acknowledged.
   */
  async safety(): Promise<Map<string, NodeSafety>> {
    const writable = this.#registry.writableLinks().map((link) => link.id);
    const inFlight = this.#uploads.copies();
    const hashes = [...inFlight.keys()];
    const [safety, recorded, live] = await Promise.all([
      this.#metadata.copiesPerNode(writable, this.#replicas),
      this.#metadata.getChunks(hashes),
      this.#metadata.referenced(hashes),
    ]);
    const count = (holders: Set<string>, sign: 1 | -1) => {
      for (const id of holders) {
        const entry = safety.get(id) ?? { recordedChunks: 0, atRiskChunks: 0 };
        entry.recordedChunks += sign;
        if ([...holders].filter((other) => other !== id && this.#registry.writable(other)).length < this.#replicas) entry.atRiskChunks += sign;
        safety.set(id, entry);
      }
    };
    for (const [hash, ids] of inFlight) {
      // The database counted a chunk only if something references it.
      const counted = new Set(live.has(hash) ? (recorded.get(hash)?.nodeIds ?? []) : []);
      count(counted, -1);
      count(new Set([...counted, ...ids]), 1);
    }
    for (const [id, entry] of safety) if (entry.recordedChunks === 0) safety.delete(id);
    return safety;
  }

  /** A draining node serves reads but takes no new replicas; repair moves its chunks off it. */
  async setDraining(id: string, draining: boolean): Promise<void> {
    if (!(await this.#metadata.setDraining(id, draining))) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(id)}`);
    this.#registry.link(id)?.setDraining(draining);
    await this.#registry.publish('node.stats', id);
    this.#repair.sweepSoon(0);
  }

  /** Clears a node's quarantine: it takes new copies again, and its copies count toward R again. */
  async trust(id: string): Promise<void> {
    await this.#trust.trust(id);
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
    this.#trust.forget(id);
    this.#events.publish({ type: 'node.removed', nodeId: id });
  }
}
