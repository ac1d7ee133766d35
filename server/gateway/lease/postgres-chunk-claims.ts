import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { ShoalError } from '../../../shared/errors.ts';
import type { ChunkClaims } from './chunk-claims.ts';
import type { Lease } from './lease.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** How long a pin waits before asking again while another gateway removes copies of its chunk. */
const PIN_RETRY_MS = 50;

/** The name of the lease under which a gateway's claims count. */
export function claimsLeaseName(gatewayId: string): string {
  return `claims:${gatewayId}`;
}

interface OtherClaim {
  hash: string;
  owner: string;
  epoch: number;
  /** The epoch of the owner's claims lease now, null when it has none. */
  live_epoch: number | null;
  expired: boolean;
}

/**
 * Chunk claims in the shared PostgreSQL database (table `chunk_claims`). Each claim names its
 * gateway and the epoch of that gateway's claims lease (`claims:<id>`, renewed like the repair
 * lease): a claim counts while that lease still has its epoch. A claim of a gateway whose lease ran
 * out is revoked before it is ignored, by moving that lease's epoch on under its row lock; the
 * gateway's own write transactions check the same row first (`fence`), so either its write commits
 * before the revocation, or it fails. Decisions about one chunk are taken one at a time, under a
 * transaction-scoped advisory lock on its hash, in hash order so that two never deadlock.
 */
export class PostgresChunkClaims implements ChunkClaims {
  readonly #pool: pg.Pool;
  readonly #owner: string;
  /** This gateway's claims lease. */
  readonly #lease: Lease;
  /** The repair lease, for claims made by background work. */
  readonly #repair: Lease;
  /** The epoch this gateway's claims are made under: that of its claims lease when it was taken. */
  #epoch: number | null = null;
  /** What this gateway has claimed and not given up yet: work that relies on its claims. */
  readonly #pinned = new Set<string>();
  readonly #removing = new Set<string>();

  constructor(pool: pg.Pool, owner: string, lease: Lease, repair: Lease) {
    this.#pool = pool;
    this.#owner = owner;
    this.#lease = lease;
    this.#repair = repair;
  }

  /** Takes the claims lease and forgets what this gateway claimed before it started again. */
  async start(): Promise<void> {
    await this.#lease.start();
    this.#epoch = this.#lease.epoch;
    if (this.#epoch === null) throw new ShoalError('CONFLICT', `the chunk claims of gateway ${this.#owner} are held by another process`);
    await this.#pool.query('DELETE FROM chunk_claims WHERE owner = $1 AND epoch < $2', [this.#owner, this.#epoch]);
  }

  get valid(): boolean {
    this.#adopt();
    return this.#epoch !== null && this.#lease.epoch === this.#epoch;
  }

  /**
   * After a revocation the lease comes back under a new epoch; this gateway claims under it once
   * nothing it claimed under the old one is held, so no work relying on a revoked claim goes on.
   */
  #adopt(): void {
    const epoch = this.#lease.epoch;
    if (epoch === null || epoch === this.#epoch || this.#epoch === null || this.#pinned.size > 0 || this.#removing.size > 0) return;
    this.#epoch = epoch;
  }

  /**
   * Run first in each of this gateway's metadata write transactions: it commits only while this
   * gateway's claims stand, and holds a share lock that a revocation of them waits for.
   */
  async fence(db: Queryable): Promise<void> {
    this.#adopt();
    if (this.#epoch === null) return;
    const { rowCount } = await db.query('SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 FOR SHARE', [
      claimsLeaseName(this.#owner),
      this.#owner,
      this.#epoch,
    ]);
    if (!rowCount) throw this.#revoked();
  }

  async pin(hashes: string[]): Promise<void> {
    this.#adopt();
    for (;;) {
      const blocked = await this.#transaction(hashes, async (db) => {
        const others = await this.#others(db, hashes, ['remove']);
        if (others.size > 0) return true;
        await this.#insert(db, hashes, 'pin');
        return false;
      });
      if (!blocked) {
        for (const hash of hashes) this.#pinned.add(hash);
        return;
      }
      await sleep(PIN_RETRY_MS);
    }
  }

  async unpin(hashes: string[]): Promise<void> {
    for (const hash of hashes) this.#pinned.delete(hash);
    await this.#delete(hashes, 'pin');
  }

  async claimRemoval(hashes: string[], leased: boolean): Promise<string[]> {
    if (hashes.length === 0) return [];
    this.#adopt();
    return this.#transaction(hashes, async (db) => {
      if (leased && !(await this.#holdsRepairLease(db))) return [];
      const others = await this.#others(db, hashes, ['pin', 'remove']);
      const claimed = hashes.filter((hash) => !others.has(hash));
      await this.#insert(db, claimed, 'remove');
      return claimed;
    }).then((claimed) => {
      for (const hash of claimed) this.#removing.add(hash);
      return claimed;
    });
  }

  async endRemoval(hashes: string[]): Promise<void> {
    for (const hash of hashes) this.#removing.delete(hash);
    await this.#delete(hashes, 'remove');
  }

  /** `work` in one transaction holding the advisory locks of `hashes`, after checking this gateway's own claims stand. */
  async #transaction<T>(hashes: string[], work: (db: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended(h, 0)) FROM (SELECT DISTINCT h FROM unnest($1::text[]) AS t(h) ORDER BY h) AS s', [hashes]);
      await this.fence(client);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * The hashes among `hashes` that another gateway's live claims of `kinds` hold. Claims made
   * under an epoch their gateway no longer has are deleted; those of a gateway whose lease ran
   * out are revoked first, unless it renewed meanwhile.
   */
  async #others(db: Queryable, hashes: string[], kinds: string[]): Promise<Set<string>> {
    const { rows } = await db.query<OtherClaim>(
      `SELECT c.hash, c.owner, c.epoch, l.epoch AS live_epoch, coalesce(l.expires_at <= clock_timestamp(), true) AS expired
       FROM chunk_claims c LEFT JOIN leases l ON l.name = 'claims:' || c.owner
       WHERE c.hash = ANY($1) AND c.owner <> $2 AND c.kind = ANY($3)`,
      [hashes, this.#owner, kinds],
    );
    const held = new Set<string>();
    const dead = new Map<string, number>();
    for (const claim of rows) {
      if (claim.live_epoch !== claim.epoch) dead.set(claim.owner, Math.max(dead.get(claim.owner) ?? 0, claim.epoch));
      else if (!claim.expired || !(await this.#revoke(db, claim.owner, claim.epoch))) held.add(claim.hash);
      else dead.set(claim.owner, claim.epoch);
    }
    for (const [owner, epoch] of dead) await db.query('DELETE FROM chunk_claims WHERE owner = $1 AND epoch <= $2', [owner, epoch]);
    return held;
  }

  /** Moves a silent gateway's claims lease past `epoch`, waiting for its write in progress; false when it renewed meanwhile. */
  async #revoke(db: Queryable, owner: string, epoch: number): Promise<boolean> {
    const { rowCount } = await db.query(
      'UPDATE leases SET epoch = epoch + 1, expires_at = clock_timestamp() WHERE name = $1 AND epoch = $2 AND expires_at <= clock_timestamp()',
      [claimsLeaseName(owner), epoch],
    );
    return (rowCount ?? 0) > 0;
  }

  async #holdsRepairLease(db: Queryable): Promise<boolean> {
    const epoch = this.#repair.epoch;
    if (epoch === null) return false;
    const { rowCount } = await db.query('SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR SHARE', [
      this.#repair.name,
      this.#owner,
      epoch,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async #insert(db: Queryable, hashes: string[], kind: 'pin' | 'remove'): Promise<void> {
    await db.query(
      `INSERT INTO chunk_claims (hash, owner, epoch, kind) SELECT DISTINCT h, $2::text, $3::int8, $4::text FROM unnest($1::text[]) AS t(h)
       ON CONFLICT (hash, owner, kind) DO UPDATE SET epoch = excluded.epoch`,
      [hashes, this.#owner, this.#epoch, kind],
    );
  }

  async #delete(hashes: string[], kind: 'pin' | 'remove'): Promise<void> {
    if (hashes.length === 0) return;
    await this.#pool.query('DELETE FROM chunk_claims WHERE hash = ANY($1) AND owner = $2 AND kind = $3', [hashes, this.#owner, kind]);
  }

  #revoked(): ShoalError {
    return new ShoalError(
      'GATEWAY_FENCED',
      `gateway ${this.#owner} was out of touch with the database long enough for others to revoke its chunk claims: it writes again once the work that relied on them has ended`,
    );
  }
}
