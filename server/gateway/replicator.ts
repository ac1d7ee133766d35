import { ShoalError, toShoalError } from '../../shared/errors.ts';
import type { NodeLink } from './node-link.ts';
import type { NodeRegistry } from './node-registry.ts';
import { rankNodes } from './placement.ts';

/**
 * Puts a chunk on enough distinct nodes. Targets come from weighted rendezvous hashing over the
 * ready nodes with room, so the same chunk always prefers the same nodes; a node that fails is
 * skipped for the next in rank. Concurrent requests for the same chunk share one attempt.
 */
export class Replicator {
  readonly #registry: NodeRegistry;
  readonly #inFlight = new Map<string, Promise<string[]>>();

  constructor(registry: NodeRegistry) {
    this.#registry = registry;
  }

  /**
   * Ensures `replicas` online nodes hold the chunk, counting `holders` that are online already, and
   * resolves with every holder once each new replica has acknowledged a durable write.
   */
  ensure(hash: string, data: Uint8Array, holders: string[], replicas: number): Promise<string[]> {
    const running = this.#inFlight.get(hash);
    if (running) return running;
    const attempt = this.#place(hash, data, holders, replicas).finally(() => this.#inFlight.delete(hash));
    this.#inFlight.set(hash, attempt);
    return attempt;
  }

  async #place(hash: string, data: Uint8Array, holders: string[], replicas: number): Promise<string[]> {
    const have = new Set(holders.filter((id) => this.#registry.isOnline(id)));
    if (have.size >= replicas) return [...have];
    const candidates = this.#registry
      .ready()
      .filter((link) => !have.has(link.id) && !link.draining && link.freeBytes >= data.length)
      .map((link) => ({ link, id: link.id, weight: link.capacityBytes }));
    const ranked = rankNodes(hash, candidates).map((c) => c.link);
    const failures: string[] = [];
    while (have.size < replicas && ranked.length > 0) {
      const batch = ranked.splice(0, replicas - have.size);
      const results = await Promise.allSettled(batch.map((link: NodeLink) => link.put(hash, data)));
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') have.add(batch[i]!.id);
        else failures.push(`${batch[i]!.id}: ${toShoalError(result.reason).code}`);
      });
    }
    if (have.size < replicas) {
      const detail = failures.length > 0 ? ` (${failures.join(', ')})` : '';
      throw new ShoalError('INSUFFICIENT_NODES', `could place only ${have.size} of ${replicas} replicas of chunk ${hash.slice(0, 12)}${detail}`);
    }
    return [...have];
  }
}
