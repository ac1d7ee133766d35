import type { GatewayContext } from './context.ts';

/**
 * Deletes chunks that sit on nodes but that no file needs: left by failed or interrupted uploads,
 * or by deletes that missed an offline node. A chunk is only a candidate for a grace period first,
 * and is deleted only if, at that moment, no file references it and no upload has it pinned, so an
 * upload racing with collection never loses a chunk it is about to commit.
 */
export class OrphanCollector {
  readonly #ctx: GatewayContext;
  readonly #graceMs: number;
  /** nodeId -> hash -> when it was first seen unreferenced. */
  readonly #candidates = new Map<string, Map<string, number>>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #collecting = false;
  #collected = 0;

  constructor(ctx: GatewayContext, graceMs: number) {
    this.#ctx = ctx;
    this.#graceMs = graceMs;
  }

  get collected(): number {
    return this.#collected;
  }

  get pending(): number {
    let count = 0;
    for (const hashes of this.#candidates.values()) count += hashes.size;
    return count;
  }

  start(): void {
    this.#timer = setInterval(() => void this.collect(), Math.max(100, Math.min(this.#graceMs / 2, 30_000)));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** A node reported holding chunks the metadata does not know. */
  note(nodeId: string, hashes: string[]): void {
    if (hashes.length === 0) return;
    const now = Date.now();
    const known = this.#candidates.get(nodeId) ?? new Map<string, number>();
    for (const hash of hashes) if (!known.has(hash)) known.set(hash, now);
    this.#candidates.set(nodeId, known);
  }

  /** An upload failed after storing some chunks: any ready node may hold them. */
  noteEverywhere(hashes: string[]): void {
    for (const link of this.#ctx.registry.ready()) this.note(link.id, hashes);
  }

  async collect(): Promise<void> {
    if (this.#collecting) return;
    this.#collecting = true;
    try {
      for (const nodeId of [...this.#candidates.keys()]) {
        // One node failing (gone mid-way, a timeout) must not hold up the others.
        await this.#collectOn(nodeId).catch(() => {});
      }
    } finally {
      this.#collecting = false;
    }
  }

  async #collectOn(nodeId: string): Promise<void> {
    const hashes = this.#candidates.get(nodeId);
    const link = this.#ctx.registry.get(nodeId);
    if (!hashes || !link) return;
    const cutoff = Date.now() - this.#graceMs;
    const due = [...hashes].filter(([, seen]) => seen <= cutoff).map(([hash]) => hash);
    if (due.length === 0) return;
    const orphans = await this.#ctx.pins.locked(due, async () => {
      const referenced = await this.#ctx.metadata.referenced(due);
      const unneeded = due.filter((hash) => !referenced.has(hash) && !this.#ctx.pins.has(hash));
      await this.#ctx.metadata.forgetUnreferenced(unneeded);
      await link.delete(unneeded);
      return unneeded;
    });
    for (const hash of due) hashes.delete(hash);
    if (hashes.size === 0) this.#candidates.delete(nodeId);
    if (orphans.length === 0) return;
    this.#collected += orphans.length;
    this.#ctx.events.publish({ type: 'orphans.collected', nodeId, count: orphans.length });
  }
}
