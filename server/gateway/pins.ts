/**
 * Chunks an upload has stored but not yet committed. Deletes and garbage collection skip pinned
 * hashes, so a chunk is never removed from nodes in the window between its replicas acking and the
 * file that needs it being committed.
 */
export class PinSet {
  readonly #counts = new Map<string, number>();

  pin(hash: string): void {
    this.#counts.set(hash, (this.#counts.get(hash) ?? 0) + 1);
  }

  unpin(hash: string): void {
    const count = (this.#counts.get(hash) ?? 0) - 1;
    if (count > 0) this.#counts.set(hash, count);
    else this.#counts.delete(hash);
  }

  has(hash: string): boolean {
    return this.#counts.has(hash);
  }
}
