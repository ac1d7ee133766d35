import { ShoalError } from '../../../shared/errors.ts';
import { KeyedLock } from '../../../shared/keyed-lock.ts';
import type { ChunkClaims } from '../lease/chunk-claims.ts';

/**
 * The one rule under which copies on nodes change. An upload pins each chunk it stores until its
 * file is committed, and places the chunk while holding the chunk's lock; a download pins the
 * chunks of the version it reads until it has read them. Every removal of a copy
 * holds the locks of the chunks it removes and skips pinned ones. So either the removal finishes
 * first and the upload, reading the holders under the lock, writes fresh copies; or the upload
 * pinned first and the removal leaves the chunk alone.
 *
 * With several gateways on one database, `claims` carries the rule across them: an upload's pin is
 * also a claim the others see before it reads the holders (waiting while another gateway removes
 * copies of the chunk), and a removal goes ahead only on chunks it could claim, which no other
 * gateway pins or removes. Locks and pins in memory still order the work of this gateway.
 */
export class ChunkLocks {
  readonly #pins = new Map<string, number>();
  readonly #lock = new KeyedLock();
  readonly #claims: ChunkClaims | null;
  /** Hashes pinned in the shared claims, until their last pin here ends. */
  readonly #shared = new Set<string>();
  /** Per hash, its claims' writes in order: a pin must not overtake the unpin before it. */
  readonly #claimWrites = new Map<string, Promise<void>>();

  constructor(claims: ChunkClaims | null = null) {
    this.#claims = claims;
  }

  /** Whether other gateways share the chunks: then what this one alone knows is no reason to delete a copy. */
  get shared(): boolean {
    return this.#claims !== null;
  }

  pin(hash: string): void {
    this.#pins.set(hash, (this.#pins.get(hash) ?? 0) + 1);
  }

  /** True when this was the last pin of the hash. */
  unpin(hash: string): boolean {
    const count = (this.#pins.get(hash) ?? 0) - 1;
    if (count > 0) this.#pins.set(hash, count);
    else this.#pins.delete(hash);
    if (count <= 0 && this.#shared.delete(hash)) void this.#inOrder(hash, () => this.#claims!.unpin([hash])).catch(() => {});
    return count <= 0;
  }

  /**
   * For an upload that pinned `hash`, holding its lock, before it reads the holders: makes the pin
   * count on every gateway, once any removal another gateway has under way is over.
   */
  async share(hash: string): Promise<void> {
    if (!this.#claims || this.#shared.has(hash)) return;
    await this.#inOrder(hash, () => this.#claims!.pin([hash]));
    this.#shared.add(hash);
  }

  /** How many uploads and downloads pin the hash now. */
  pinCount(hash: string): number {
    return this.#pins.get(hash) ?? 0;
  }

  isPinned(hash: string): boolean {
    return this.#pins.has(hash);
  }

  /** Runs `work` holding the locks of `hashes`. */
  locked<T>(hashes: Iterable<string>, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(hashes, work);
  }

  /**
   * Runs `work` holding the locks of `hashes`, on those that nothing pins, here or (claimed for the
   * removal until `work` ends) on another gateway. `leased`: background work, which claims
   * nothing unless this gateway holds the repair lease.
   */
  removing<T>(hashes: Iterable<string>, work: (unpinned: string[]) => Promise<T>, leased = false): Promise<T> {
    const all = [...hashes];
    return this.#lock.run(all, async () => {
      const unpinned = all.filter((hash) => !this.isPinned(hash));
      const claims = this.#claims;
      if (!claims) return work(unpinned);
      const claimed = await claims.claimRemoval(unpinned, leased);
      try {
        return await work(claimed);
      } finally {
        await claims.endRemoval(claimed).catch(() => {});
      }
    });
  }

  /**
   * Throws unless this gateway's claims still stand: checked just before a copy is deleted on a
   * node, which no database transaction can fence.
   */
  assertClaims(): void {
    if (this.#claims && !this.#claims.valid) throw new ShoalError('GATEWAY_FENCED', 'this gateway lost touch with the shared database: it deletes no copy until its claims stand again');
  }

  #inOrder(hash: string, write: () => Promise<void>): Promise<void> {
    const done = (this.#claimWrites.get(hash) ?? Promise.resolve()).then(write);
    const tail = done.catch(() => {});
    this.#claimWrites.set(hash, tail);
    void tail.then(() => {
      if (this.#claimWrites.get(hash) === tail) this.#claimWrites.delete(hash);
    });
    return done;
  }
}
