import type { MetadataStore } from '../metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import type { ChunkClaims } from './chunk-claims.ts';
import { Lease } from './lease.ts';
import { processHolder } from './lease-holder.ts';
import { claimsLeaseName, PostgresChunkClaims } from './postgres-chunk-claims.ts';
import { PostgresLeaseStore } from './postgres-lease-store.ts';
import { SqliteLeaseStore } from './sqlite-lease-store.ts';

/** The lease under which repair, rebalancing, trimming, collection and the other background work run: on one gateway at a time. */
export const REPAIR_LEASE = 'repair';

export interface LeaseTiming {
  /** Another gateway takes the repair lease over this long after its holder fell silent. */
  repairTtlMs: number;
  /** A silent gateway's chunk claims stand in the others' way this long. */
  claimsTtlMs: number;
  renewMs: number;
}

export const LEASE_TIMING: LeaseTiming = { repairTtlMs: 5000, claimsTtlMs: 10_000, renewMs: 1000 };

/** This gateway's leases: the repair lease it may hold, and, on a shared database, the claims its chunk locks make there. */
export interface GatewayLeases {
  repair: Lease;
  /** Null on SQLite, where this is the only gateway. */
  claims: ChunkClaims | null;
  /** Stops renewing and gives the leases up, so others take over at once. */
  stop(): Promise<void>;
}

/**
 * The leases of gateway `gatewayId` beside `metadata`, in the same database (its migrations made
 * the tables). On PostgreSQL the chunk claims start at once, and from then on every write
 * transaction of `metadata` is fenced by them; the repair lease is started by the caller, once
 * the services it runs are there to be started.
 */
export async function openGatewayLeases(metadata: MetadataStore, gatewayId: string, timing: LeaseTiming = LEASE_TIMING): Promise<GatewayLeases> {
  const holder = processHolder(gatewayId);
  const repairOptions = { name: REPAIR_LEASE, holder, ttlMs: timing.repairTtlMs, renewMs: timing.renewMs };
  if (metadata instanceof SqliteMetadataStore) {
    const repair = new Lease(new SqliteLeaseStore(metadata.database), repairOptions);
    return { repair, claims: null, stop: () => repair.stop() };
  }
  if (!(metadata instanceof PostgresMetadataStore)) throw new Error(`no leases for a ${metadata.constructor.name}`);
  const store = new PostgresLeaseStore(metadata.pool);
  const repair = new Lease(store, repairOptions);
  const own = new Lease(store, { name: claimsLeaseName(holder), holder, ttlMs: timing.claimsTtlMs, renewMs: timing.renewMs });
  const claims = new PostgresChunkClaims(metadata.pool, holder, own, repair);
  await claims.start();
  metadata.fence = (db) => claims.fence(db);
  return {
    repair,
    claims,
    async stop() {
      await repair.stop();
      await own.stop();
    },
  };
}
