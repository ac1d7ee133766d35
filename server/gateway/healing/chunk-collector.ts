import { INVENTORY_PAGE_SIZE } from '../../../shared/protocol.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';

export interface CollectorOptions {
  /** How long a copy waits on its node before it is collected. */
  graceMs: number;
  /** Recorded copies elsewhere that make an unrecorded copy of a needed chunk collectable. */
  replicas: number;
}

/**
 * Deletes copies that sit on nodes but that no file needs, once they have been unreferenced for a
 * grace period: only then, and only if at that moment no file references them and no upload has
 * them pinned, so an upload racing with collection never loses a chunk it is about to commit. A
 * copy the gateway never recorded of a chunk some file needs goes too, once R recorded copies of
 * it are on writable nodes elsewhere: until then it waits, as it may be all there is.
 */
export class ChunkCollector {
  readonly #replicas: ReplicaStore;
  readonly #unreferenced: UnreferencedCopies;
  readonly #events: EventBus;
  readonly #options: CollectorOptions;
  #timer: ReturnType<typeof setInterval> | null = null;
  #collecting = false;
  #collected = 0;

  constructor(replicas: ReplicaStore, unreferenced: UnreferencedCopies, events: EventBus, options: CollectorOptions) {
    this.#replicas = replicas;
    this.#unreferenced = unreferenced;
    this.#events = events;
    this.#options = options;
  }

  get collected(): number {
    return this.#collected;
  }

  get pending(): number {
    return this.#unreferenced.size;
  }

  start(): void {
    this.#timer = setInterval(() => void this.collect(), Math.max(100, Math.min(this.#options.graceMs / 2, 30_000)));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async collect(): Promise<void> {
    if (this.#collecting) return;
    this.#collecting = true;
    try {
      for (const nodeId of this.#unreferenced.nodes()) {
        // One node failing (gone mid-way, a timeout) must not hold up the others.
        await this.#collectOn(nodeId).catch(() => {});
      }
    } finally {
      this.#collecting = false;
    }
  }

  /** A page at a time, so a node with many candidates holds few chunk locks and the store briefly. */
  async #collectOn(nodeId: string): Promise<void> {
    const due = this.#unreferenced.due(nodeId, Date.now() - this.#options.graceMs);
    for (let i = 0; i < due.length; i += INVENTORY_PAGE_SIZE) {
      const page = due.slice(i, i + INVENTORY_PAGE_SIZE);
      const { deleted, waiting } = await this.#replicas.collect(nodeId, page, this.#options.replicas);
      const kept = new Set(waiting);
      this.#unreferenced.settle(nodeId, page.filter((hash) => !kept.has(hash)));
      if (deleted.length === 0) continue;
      this.#collected += deleted.length;
      this.#events.publish({ type: 'orphans.collected', nodeId, count: deleted.length });
    }
  }
}
