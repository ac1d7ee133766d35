import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { FORGET_GATEWAYS_AFTER_MS, GATEWAY_OFFLINE_AFTER_MS, type GatewayDirectory, type GatewayRecord } from './gateway-directory.ts';

interface GatewayRow {
  id: string;
  url: string;
  started_at: string;
  last_seen_at: string;
  stopped: number;
}

/**
 * The `gateways` table of a SQLite metadata file. DataDirLock lets one gateway use the file, so
 * this lists that one (and the earlier starts of others that used it, offline); times are this
 * machine's clock.
 */
export class SqliteGatewayDirectory implements GatewayDirectory {
  readonly #db: Database.Database;
  readonly #offlineAfterMs: number;
  readonly #sql;
  #self: string | null = null;
  readonly #instance = randomUUID();

  constructor(db: Database.Database, options: { offlineAfterMs?: number } = {}) {
    this.#db = db;
    this.#offlineAfterMs = options.offlineAfterMs ?? GATEWAY_OFFLINE_AFTER_MS;
    this.#sql = {
      register: db.prepare<[{ id: string; url: string; now: string; instance: string }]>(
        `INSERT INTO gateways (id, url, started_at, last_seen_at, stopped, instance) VALUES (@id, @url, @now, @now, 0, @instance)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, stopped = 0, instance = excluded.instance`,
      ),
      forget: db.prepare<[string]>('DELETE FROM gateways WHERE last_seen_at < ?'),
      heartbeat: db.prepare<[string, string, string]>('UPDATE gateways SET last_seen_at = ? WHERE id = ? AND instance = ? AND stopped = 0'),
      stop: db.prepare<[string, string, string]>('UPDATE gateways SET last_seen_at = ?, stopped = 1 WHERE id = ? AND instance = ?'),
      list: db.prepare<[], GatewayRow>('SELECT * FROM gateways ORDER BY id'),
    };
  }

  async register(self: { id: string; url: string }): Promise<void> {
    const now = Date.now();
    this.#sql.forget.run(new Date(now - FORGET_GATEWAYS_AFTER_MS).toISOString());
    this.#sql.register.run({ id: self.id, url: self.url, now: new Date(now).toISOString(), instance: this.#instance });
    this.#self = self.id;
  }

  async heartbeat(): Promise<boolean> {
    if (this.#self === null) return true;
    // A heartbeat is worth nothing after a crash, so it does not wait for the disk: the next
    // durable commit carries it to disk anyway.
    this.#db.pragma('synchronous = NORMAL');
    try {
      return this.#sql.heartbeat.run(new Date().toISOString(), this.#self, this.#instance).changes > 0;
    } finally {
      this.#db.pragma('synchronous = FULL');
    }
  }

  async list(): Promise<GatewayRecord[]> {
    const heardSince = new Date(Date.now() - this.#offlineAfterMs).toISOString();
    return this.#sql.list.all().map((row) => ({
      id: row.id,
      url: row.url,
      startedAt: row.started_at,
      lastSeenAt: row.last_seen_at,
      status: row.stopped === 0 && row.last_seen_at >= heardSince ? 'online' : 'offline',
    }));
  }

  async close(): Promise<void> {
    if (this.#self === null || !this.#db.open) return;
    this.#sql.stop.run(new Date().toISOString(), this.#self, this.#instance);
    this.#self = null;
  }
}
