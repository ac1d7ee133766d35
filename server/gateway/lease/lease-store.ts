/** Who holds a lease, under which fencing epoch, until when (the store's clock). */
export interface LeaseGrant {
  holder: string;
  /**
   * Goes up by one each time the lease changes hands or its holder starts again, never down: work
   * done under an older epoch has lost its authority, whatever its holder still believes.
   */
  epoch: number;
  expiresAt: string;
}

/**
 * Named leases in the metadata's database: at most one holder of a name at a time, for a time to
 * live that the holder keeps renewing. Expiry is judged by the database's clock (PostgreSQL's, or
 * the one machine's with SQLite), so gateways with skewed clocks agree on it. Both
 * implementations are held to lease-store.contract.ts.
 */
export interface LeaseStore {
  /**
   * Takes `name` for `holder` for `ttlMs`: when nobody holds it, when its holder let it expire, or
   * when `holder` itself held it (a restarted gateway, which must not wait out its own old lease).
   * Each time with a new epoch. Null while another holder's lease runs.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null>;
  /**
   * Extends the lease of `epoch` by `ttlMs` from now. Null when the epoch has moved on (someone
   * took it over): then the holder has lost it. A lease that ran out but that nobody took keeps
   * its epoch, and may be renewed: nobody can have acted under a newer one.
   */
  renew(name: string, holder: string, epoch: number, ttlMs: number): Promise<LeaseGrant | null>;
  /** Ends the lease of `epoch` now, so another may take it at once; the epoch stays, for the next to go above. */
  release(name: string, holder: string, epoch: number): Promise<void>;
  /** The lease of `name` while it runs; null when nobody holds it. */
  current(name: string): Promise<LeaseGrant | null>;
}
