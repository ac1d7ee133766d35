/**
 * What one gateway's chunk locks (replicas/chunk-locks.ts) tell the others, when several share a
 * database: chunks its uploads have pinned, and chunks whose copies it is removing. A removal never
 * claims a chunk another gateway pins, and a pin waits while another gateway removes, so the rule
 * of ChunkLocks holds across gateways. Claims count only while their gateway is alive: a dead
 * gateway's are revoked by the first gateway they stand in the way of.
 */
export interface ChunkClaims {
  /** Pins `hashes` for this gateway, waiting while another removes copies of any of them. */
  pin(hashes: string[]): Promise<void>;
  unpin(hashes: string[]): Promise<void>;
  /**
   * Claims the removal of those of `hashes` no other gateway pins or removes, and says which. With
   * `leased`, only while this gateway holds the repair lease: background work claims nothing
   * under a lease that passed to another gateway.
   */
  claimRemoval(hashes: string[], leased: boolean): Promise<string[]>;
  endRemoval(hashes: string[]): Promise<void>;
  /** Whether this gateway's claims still stand: checked before it deletes a copy on a node. */
  readonly valid: boolean;
}
