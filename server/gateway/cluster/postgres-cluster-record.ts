import type pg from 'pg';
import { serializable } from '../metadata/postgres-metadata-store.ts';
import { claimed, CLUSTER_RECORD_KEY, parseRecord, type ClusterRecord, type ClusterRecordStore } from './cluster-record.ts';

/** The cluster record in the shared PostgreSQL database's gateway_state; gateways starting together claim it one after the other. */
export class PostgresClusterRecord implements ClusterRecordStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async read(): Promise<ClusterRecord | null> {
    const { rows } = await this.#pool.query<{ value: string }>('SELECT value FROM gateway_state WHERE key = $1', [CLUSTER_RECORD_KEY]);
    return parseRecord(rows[0]?.value);
  }

  async claim(record: ClusterRecord): Promise<ClusterRecord> {
    return serializable(this.#pool, async (db) => {
      const { rows } = await db.query<{ value: string }>('SELECT value FROM gateway_state WHERE key = $1', [CLUSTER_RECORD_KEY]);
      const now = claimed(parseRecord(rows[0]?.value), record);
      await db.query('INSERT INTO gateway_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
        CLUSTER_RECORD_KEY,
        JSON.stringify(now),
      ]);
      return now;
    });
  }
}
