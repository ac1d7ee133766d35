import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { FORGET_GATEWAYS_AFTER_MS, GATEWAY_OFFLINE_AFTER_MS, type GatewayDirectory, type GatewayRecord } from './gateway-directory.ts';

interface GatewayRow {
  id: string;
  url: string;
  started_at: Date;
  last_seen_at: Date;
  online: boolean;
}

/**
 * The `gateways` table of the PostgreSQL database every gateway of the cluster shares. Times are
 * the database's clock (`now()`), so whether a gateway fell silent does not depend on whose clock
 * is asked. Single-row writes that check nothing: no SERIALIZABLE transaction is needed.
 */
export class PostgresGatewayDirectory implements GatewayDirectory {
  readonly #pool: pg.Pool;
  readonly #offlineAfterMs: number;
  #self: string | null = null;
  readonly #instance = randomUUID();

  constructor(pool: pg.Pool, options: { offlineAfterMs?: number } = {}) {
    this.#pool = pool;
    this.#offlineAfterMs = options.offlineAfterMs ?? GATEWAY_OFFLINE_AFTER_MS;
  }

  async register(self: { id: string; url: string }): Promise<void> {
    await this.#pool.query(`DELETE FROM gateways WHERE last_seen_at < now() - $1 * interval '1 millisecond'`, [FORGET_GATEWAYS_AFTER_MS]);
    await this.#pool.query(
      `INSERT INTO gateways (id, url, started_at, last_seen_at, stopped, instance) VALUES ($1, $2, now(), now(), false, $3)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, stopped = false,
         instance = excluded.instance`,
      [self.id, self.url, this.#instance],
    );
    this.#self = self.id;
  }

  async heartbeat(): Promise<boolean> {
    if (this.#self === null) return true;
    const { rowCount } = await this.#pool.query('UPDATE gateways SET last_seen_at = now() WHERE id = $1 AND instance = $2 AND NOT stopped', [this.#self, this.#instance]);
    return (rowCount ?? 0) > 0;
  }

  async list(): Promise<GatewayRecord[]> {
    const { rows } = await this.#pool.query<GatewayRow>(
      `SELECT id, url, started_at, last_seen_at, (NOT stopped AND last_seen_at >= now() - $1 * interval '1 millisecond') AS online
       FROM gateways ORDER BY id`,
      [this.#offlineAfterMs],
    );
    return rows.map((row) => ({
      id: row.id,
      url: row.url,
      startedAt: row.started_at.toISOString(),
      lastSeenAt: row.last_seen_at.toISOString(),
      status: row.online ? 'online' : 'offline',
    }));
  }

  async close(): Promise<void> {
    if (this.#self === null || this.#pool.ended) return;
    const self = this.#self;
    this.#self = null;
    await this.#pool.query('UPDATE gateways SET last_seen_at = now(), stopped = true WHERE id = $1 AND instance = $2', [self, this.#instance]);
  }
}
