import { ShoalError, toShoalError } from '../../shared/errors.ts';
import type { NodeLink } from './node-link.ts';
import type { NodeRegistry } from './node-registry.ts';
import { rankTargets } from './placement.ts';

/**
 * Puts a chunk on enough distinct nodes. Targets come from weighted rendezvous hashing over the
 * ready nodes with room, so the same chunk always prefers the same nodes; a node that fails is
 * skipped for the next in rank.
 */
export class Replicator {
  readonly #registry: NodeRegistry;

  constructor(registry: NodeRegistry) {
    this.#registry = registry;
  }

  /**
   * Makes `replicas` good nodes hold the chunk, counting the good ones among `holders`, and
   * resolves with the nodes it wrote to, each of which acknowledged a durable write. Only those
   * are new facts for the metadata: the existing holders are already recorded there, and a record
   * removed meanwhile (a scrub found the copy rotten) must not be put back.
   */
  async ensure(hash: string, data: Uint8Array, holders: string[], replicas: number): Promise<string[]> {
    const have = new Set(holders.filter((id) => this.#registry.isGood(id)));
    const written: string[] = [];
    if (have.size >= replicas) return written;
    const ranked = rankTargets(hash, data.length, this.#registry.writable()).filter((link) => !have.has(link.id));
    const failures: string[] = [];
    while (have.size < replicas && ranked.length > 0) {
      const batch = ranked.splice(0, replicas - have.size);
      const results = await Promise.allSettled(batch.map((link: NodeLink) => link.put(hash, data)));
      results.forEach((result, i) => {
        const id = batch[i]!.id;
        if (result.status === 'fulfilled') {
          have.add(id);
          written.push(id);
        } else {
          failures.push(`${id}: ${toShoalError(result.reason).code}`);
        }
      });
    }
    if (have.size < replicas) {
      const detail = failures.length > 0 ? ` (${failures.join(', ')})` : '';
      throw new ShoalError('INSUFFICIENT_NODES', `could place only ${have.size} of ${replicas} replicas of chunk ${hash.slice(0, 12)}${detail}`);
    }
    return written;
  }
}
