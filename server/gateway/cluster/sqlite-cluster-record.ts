import type Database from 'better-sqlite3';
import { claimed, CLUSTER_RECORD_KEY, parseRecord, type ClusterRecord, type ClusterRecordStore } from './cluster-record.ts';

/** The cluster record in a SQLite metadata file's gateway_state. */
export class SqliteClusterRecord implements ClusterRecordStore {
  readonly #read;
  readonly #claim;

  constructor(db: Database.Database) {
    const get = db.prepare<[string], string>('SELECT value FROM gateway_state WHERE key = ?').pluck();
    const put = db.prepare<[string, string]>('INSERT INTO gateway_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#read = () => parseRecord(get.get(CLUSTER_RECORD_KEY));
    this.#claim = db.transaction((record: ClusterRecord) => {
      const now = claimed(this.#read(), record);
      put.run(CLUSTER_RECORD_KEY, JSON.stringify(now));
      return now;
    });
  }

  async read(): Promise<ClusterRecord | null> {
    return this.#read();
  }

  async claim(record: ClusterRecord): Promise<ClusterRecord> {
    return this.#claim.immediate(record);
  }
}
