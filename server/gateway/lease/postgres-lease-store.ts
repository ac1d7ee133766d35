import type pg from 'pg';
import type { LeaseGrant, LeaseStore } from './lease-store.ts';

interface LeaseRow {
  holder: string;
  epoch: number;
  expires_at: Date;
}

/** `ttlMs` from the database's clock now: statement time, not the transaction's start. */
const EXPIRY = `clock_timestamp() + $3::float8 * interval '1 millisecond'`;

/**
 * Leases in the PostgreSQL database the gateways share (table `leases`). Every decision is one
 * statement that reads and writes the row under its row lock, judged by the database's clock, so
 * two gateways asking at once cannot both be given a lease, whatever their own clocks say.
 */
export class PostgresLeaseStore implements LeaseStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<LeaseGrant | null> {
    const { rows } = await this.#pool.query<LeaseRow>(
      `INSERT INTO leases (name, holder, epoch, expires_at) VALUES ($1, $2, 1, ${EXPIRY})
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = leases.epoch + 1, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= clock_timestamp()
       RETURNING holder, epoch, expires_at`,
      [name, holder, ttlMs],
    );
    return rows[0] ? grant(rows[0]) : null;
  }

  async renew(name: string, holder: string, epoch: number, ttlMs: number): Promise<LeaseGrant | null> {
    const { rows } = await this.#pool.query<LeaseRow>(
      `UPDATE leases SET expires_at = ${EXPIRY} WHERE name = $1 AND holder = $2 AND epoch = $4 RETURNING holder, epoch, expires_at`,
      [name, holder, ttlMs, epoch],
    );
    return rows[0] ? grant(rows[0]) : null;
  }

  async release(name: string, holder: string, epoch: number): Promise<void> {
    await this.#pool.query('UPDATE leases SET expires_at = clock_timestamp() WHERE name = $1 AND holder = $2 AND epoch = $3', [name, holder, epoch]);
  }

  async current(name: string): Promise<LeaseGrant | null> {
    const { rows } = await this.#pool.query<LeaseRow>('SELECT holder, epoch, expires_at FROM leases WHERE name = $1 AND expires_at > clock_timestamp()', [name]);
    return rows[0] ? grant(rows[0]) : null;
  }
}

function grant(row: LeaseRow): LeaseGrant {
  return { holder: row.holder, epoch: row.epoch, expiresAt: row.expires_at.toISOString() };
}
