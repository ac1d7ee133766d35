/**
 * What a node may hold that it should not keep: left by failed or interrupted uploads, by trims and
 * deletes whose removal failed, or reported by the node's inventory without the gateway having
 * recorded it there. Each is remembered with when it was first seen, so that collection can wait
 * out a grace period before deleting it. What is remembered of one node is capped and dropped when
 * it goes away: its next inventory reports again whatever it still holds.
 */
export class UnreferencedCopies {
  /** nodeId -> hash -> when it was first seen unreferenced. */
  readonly #byNode = new Map<string, Map<string, number>>();
  readonly #limitPerNode: number;

  /** A node may report any number of hashes: past `limitPerNode` they wait for its next inventory. */
  constructor(limitPerNode = 100_000) {
    this.#limitPerNode = limitPerNode;
  }

  get size(): number {
    let count = 0;
    for (const hashes of this.#byNode.values()) count += hashes.size;
    return count;
  }

  note(nodeId: string, hashes: string[]): void {
    if (hashes.length === 0) return;
    const now = Date.now();
    const known = this.#byNode.get(nodeId) ?? new Map<string, number>();
    for (const hash of hashes) {
      if (known.size >= this.#limitPerNode) break;
      if (!known.has(hash)) known.set(hash, now);
    }
    this.#byNode.set(nodeId, known);
  }

  nodes(): string[] {
    return [...this.#byNode.keys()];
  }

  /** Hashes on `nodeId` first seen at or before `cutoff`. */
  due(nodeId: string, cutoff: number): string[] {
    const hashes = this.#byNode.get(nodeId);
    return hashes ? [...hashes].filter(([, seen]) => seen <= cutoff).map(([hash]) => hash) : [];
  }

  settle(nodeId: string, hashes: string[]): void {
    const known = this.#byNode.get(nodeId);
    if (!known) return;
    for (const hash of hashes) known.delete(hash);
    if (known.size === 0) this.#byNode.delete(nodeId);
  }

  /** The node went away. */
  drop(nodeId: string): void {
    this.#byNode.delete(nodeId);
  }
}
