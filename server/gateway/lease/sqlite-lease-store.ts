import type Database from 'better-sqlite3';
import type { LeaseGrant, LeaseStore } from './lease-store.ts';

interface LeaseRow {
  holder: string;
  epoch: number;
  expires_at: number;
}

/**
 * Leases in the metadata's SQLite file (table `leases`), times in milliseconds of this machine's
 * clock. Only one gateway can use a SQLite file, so it always gets the leases it asks for; the
 * table keeps the same rules as PostgreSQL's all the same.
 */
export class SqliteLeaseStore implements LeaseStore {
  readonly #db: Database.Database;
  readonly #sql;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = {
      get: db.prepare<[string], LeaseRow>('SELECT holder, epoch, expires_at FROM leases WHERE name = ?'),
      upsert: db.prepare<[string, string, number, number]>(
        'INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, expires_at = excluded.expires_at',
      ),
      renew: db.prepare<[number, string, string, number]>('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND epoch = ?'),
    };
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null> {
    return this.#db.transaction(() => {
      const now = Date.now();
      const row = this.#sql.get.get(name);
      if (row && row.holder !== holder && row.expires_at > now) return null;
      const epoch = (row?.epoch ?? 0) + 1;
      this.#sql.upsert.run(name, holder, epoch, now + ttlMs);
      return grant({ holder, epoch, expires_at: now + ttlMs });
    }).immediate();
  }

  async renew(name: string, holder: string, epoch: number, ttlMs: number): Promise<LeaseGrant | null> {
    const expiresAt = Date.now() + ttlMs;
    return this.#sql.renew.run(expiresAt, name, holder, epoch).changes > 0 ? grant({ holder, epoch, expires_at: expiresAt }) : null;
  }

  async release(name: string, holder: string, epoch: number): Promise<void> {
    this.#sql.renew.run(Date.now(), name, holder, epoch);
  }

  async current(name: string): Promise<LeaseGrant | null> {
    const row = this.#sql.get.get(name);
    return row && row.expires_at > Date.now() ? grant(row) : null;
  }
}

function grant(row: LeaseRow): LeaseGrant {
  return { holder: row.holder, epoch: row.epoch, expiresAt: new Date(row.expires_at).toISOString() };
}
