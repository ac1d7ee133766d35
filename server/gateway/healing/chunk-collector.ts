import type { EventBus } from '../events/event-bus.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';

/**
 * Deletes copies that sit on nodes but that no file needs, once they have been unreferenced for a
 * grace period: only then, and only if at that moment no file references them and no upload has
 * them pinned, so an upload racing with collection never loses a chunk it is about to commit.
 */
export class ChunkCollector {
  readonly #replicas: ReplicaStore;
  readonly #unreferenced: UnreferencedCopies;
  readonly #events: EventBus;
  readonly #graceMs: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #collecting = false;
  #collected = 0;

  constructor(replicas: ReplicaStore, unreferenced: UnreferencedCopies, events: EventBus, graceMs: number) {
    this.#replicas = replicas;
    this.#unreferenced = unreferenced;
    this.#events = events;
    this.#graceMs = graceMs;
  }

  get collected(): number {
    return this.#collected;
  }

  get pending(): number {
    return this.#unreferenced.size;
  }

  start(): void {
    this.#timer = setInterval(() => void this.collect(), Math.max(100, Math.min(this.#graceMs / 2, 30_000)));
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

  async #collectOn(nodeId: string): Promise<void> {
    const due = this.#unreferenced.due(nodeId, Date.now() - this.#graceMs);
    if (due.length === 0) return;
    const deleted = await this.#replicas.collect(nodeId, due);
    this.#unreferenced.settle(nodeId, due);
    if (deleted.length === 0) return;
    this.#collected += deleted.length;
    this.#events.publish({ type: 'orphans.collected', nodeId, count: deleted.length });
  }
}
