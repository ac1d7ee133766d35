import type { CollectionPause } from '../../../shared/api-types.ts';
import { INVENTORY_PAGE_SIZE } from '../../../shared/protocol.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';

export interface CollectorOptions {
  /** How long a copy waits on its node before it is collected. */
  graceMs: number;
  /** Recorded copies elsewhere that make an unrecorded copy of a needed chunk collectable. */
  replicas: number;
  /** The share of a node's chunks collection may delete in one grace period before it waits for an admin. */
  maxShare: number;
  /** How long a deletion's manifest is kept before it is collected too. */
  keepDeletionsMs: number;
  /** The chunks of uploads in parts open on any gateway (UploadParts.chunksInUse), which wait. */
  inUse?: () => Promise<Set<string>>;
}

/**
 * However few chunks a node holds, collection may delete this many in a grace period without
 * asking: what an interrupted upload or two leaves behind, so a small node is not held up by it.
 */
const MIN_COLLECTABLE = 100;

/** What collection may delete on one node in the grace period that began at `since`. */
interface Allowance {
  since: number;
  /** The node's chunks when the period began. */
  chunks: number;
  limit: number;
  deleted: number;
}

/**
 * Deletes copies that sit on nodes but that no file needs, once they have been unreferenced for a
 * grace period: only then, and only if at that moment no file references them and no upload has
 * them pinned, so an upload racing with collection never loses a chunk it is about to commit. A
 * copy the gateway never recorded of a chunk some file needs goes too, once R recorded copies of
 * it are on writable nodes elsewhere: until then it waits, as it may be all there is.
 *
 * Metadata that lost files (a wrong or restored data directory) makes every copy look unneeded, so
 * collection deletes at most a small share of a node's chunks in one grace period. Past it,
 * collection on that node pauses until an admin confirms, and health says why.
 */
export class ChunkCollector {
  readonly #replicas: ReplicaStore;
  readonly #unreferenced: UnreferencedCopies;
  readonly #registry: NodeRegistry;
  readonly #events: EventBus;
  readonly #options: CollectorOptions;
  readonly #allowances = new Map<string, Allowance>();
  /** nodeId -> why collection there waits for an admin. */
  readonly #paused = new Map<string, string>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #unsubscribe: () => void = () => {};
  #collecting = false;
  #collected = 0;

  constructor(replicas: ReplicaStore, unreferenced: UnreferencedCopies, registry: NodeRegistry, events: EventBus, options: CollectorOptions) {
    this.#replicas = replicas;
    this.#unreferenced = unreferenced;
    this.#registry = registry;
    this.#events = events;
    this.#options = options;
  }

  get collected(): number {
    return this.#collected;
  }

  get pending(): number {
    return this.#unreferenced.size;
  }

  get paused(): CollectionPause[] {
    return [...this.#paused].map(([nodeId, reason]) => ({ nodeId, reason }));
  }

  start(): void {
    this.#timer = setInterval(() => void this.collect(), Math.max(100, Math.min(this.#options.graceMs / 2, 30_000)));
    this.#timer.unref();
    this.#unsubscribe = this.#events.subscribe((event) => {
      if (event.type !== 'node.removed') return;
      this.#paused.delete(event.nodeId);
      this.#allowances.delete(event.nodeId);
    });
  }

  stop(): void {
    this.#unsubscribe();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * An admin's word that what waits on the paused nodes may go: on each, collection resumes without
   * a limit for a grace period from now. Names the nodes.
   */
  confirm(): string[] {
    const nodes = [...this.#paused.keys()];
    for (const nodeId of nodes) {
      this.#paused.delete(nodeId);
      this.#allowances.set(nodeId, this.#newAllowance(nodeId, Infinity));
    }
    if (nodes.length > 0) void this.collect();
    return nodes;
  }

  async collect(): Promise<void> {
    if (this.#collecting) return;
    this.#collecting = true;
    try {
      await this.#replicas.releaseDeletions(new Date(Date.now() - this.#options.keepDeletionsMs).toISOString()).catch(() => {});
      for (const nodeId of this.#unreferenced.nodes()) {
        // One node failing (gone mid-way, a timeout) must not hold up the others.
        await this.#collectOn(nodeId).catch(() => {});
      }
    } finally {
      this.#collecting = false;
    }
  }

  /**
   * A page at a time, so a node with many candidates holds few chunk locks and the store briefly,
   * and no further than the node's allowance: what is left waits for the next grace period, or for
   * an admin when the allowance ran out with copies still due.
   */
  async #collectOn(nodeId: string): Promise<void> {
    if (this.#paused.has(nodeId)) return;
    const due = this.#unreferenced.due(nodeId, Date.now() - this.#options.graceMs);
    if (due.length === 0) return;
    const allowance = this.#allowance(nodeId);
    for (let i = 0; i < due.length; ) {
      const left = allowance.limit - allowance.deleted;
      if (left <= 0) return this.#pause(nodeId, allowance, due.length - i);
      const page = due.slice(i, i + Math.min(INVENTORY_PAGE_SIZE, left));
      i += page.length;
      const inUse = (await this.#options.inUse?.()) ?? new Set<string>();
      const { deleted, waiting } = await this.#replicas.collect(
        nodeId,
        page.filter((hash) => !inUse.has(hash)),
        this.#options.replicas,
      );
      const kept = new Set([...waiting, ...inUse]);
      this.#unreferenced.settle(nodeId, page.filter((hash) => !kept.has(hash)));
      if (deleted.length === 0) continue;
      allowance.deleted += deleted.length;
      this.#collected += deleted.length;
      this.#events.publish({ type: 'orphans.collected', nodeId, count: deleted.length });
    }
  }

  /** The node's allowance for the grace period under way, a new one once the last has run out its time. */
  #allowance(nodeId: string): Allowance {
    const current = this.#allowances.get(nodeId);
    if (current && Date.now() - current.since < this.#options.graceMs) return current;
    const fresh = this.#newAllowance(nodeId);
    this.#allowances.set(nodeId, fresh);
    return fresh;
  }

  #newAllowance(nodeId: string, limit?: number): Allowance {
    const chunks = this.#registry.link(nodeId)?.chunkCount ?? 0;
    return { since: Date.now(), chunks, limit: limit ?? Math.max(MIN_COLLECTABLE, Math.floor(chunks * this.#options.maxShare)), deleted: 0 };
  }

  #pause(nodeId: string, allowance: Allowance, waiting: number): void {
    const share = `${Math.round(this.#options.maxShare * 1000) / 10}%`;
    const reason =
      `${allowance.deleted} chunk(s) collected on ${nodeId} in this grace period, as many as may go without confirmation ` +
      `(${share} of its ${allowance.chunks} chunks, at least ${MIN_COLLECTABLE}); ${waiting} more due there wait for an admin to confirm`;
    this.#paused.set(nodeId, reason);
    this.#events.publish({ type: 'orphans.paused', nodeId, reason });
  }
}
