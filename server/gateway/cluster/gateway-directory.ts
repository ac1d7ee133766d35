import type { GatewayInfo } from '../../../shared/api-types.ts';

/** A gateway of the cluster as the shared database knows it; `repairer` is filled in by the API from the repair lease. */
export type GatewayRecord = Omit<GatewayInfo, 'repairer' | 'self'>;

/**
 * The gateways that serve one cluster's metadata: each registers itself, then beats every
 * HEARTBEAT_MS; one not heard for `offlineAfterMs`, or closed, is listed offline. Its one seam has
 * a SQLite implementation (where only one gateway can run, so it lists itself) and a PostgreSQL
 * one (every gateway sharing the database), both held to gateway-directory.contract.ts.
 */
export interface GatewayDirectory {
  /** Records this gateway (again, after a restart: same id, new start), online from now. */
  register(self: { id: string; url: string }): Promise<void>;
  /**
   * This gateway is alive: its row's last-seen time is now. False when another process has
   * registered under this id since (a data directory copied with its gateway-id): the row is its.
   */
  heartbeat(): Promise<boolean>;
  /** Every gateway recorded, by id, with its status now. */
  list(): Promise<GatewayRecord[]>;
  /** This gateway stops: listed offline at once, not after the silence (unless the row is another process's now). */
  close(): Promise<void>;
}

/** How often a gateway says it is alive. */
export const HEARTBEAT_MS = 1000;

/** A gateway silent this long is offline: a few heartbeats, so one slow write is not a death. */
export const GATEWAY_OFFLINE_AFTER_MS = 5000;

/** Rows of gateways gone this long are dropped when a gateway registers: a list of every data directory ever used helps no one. */
export const FORGET_GATEWAYS_AFTER_MS = 24 * 60 * 60_000;
