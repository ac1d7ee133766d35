import type Database from 'better-sqlite3';
import type { NodePresence } from './node-presence.ts';

/**
 * Node presence in the metadata's SQLite database (table `node_presence`, made by its migrations).
 * One gateway uses the file, so this machine's clock is the store's.
 */
export class SqliteNodePresence implements NodePresence {
  readonly #db: Database.Database;
  readonly #sql;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = {
      heard: db.prepare<[string, string, string]>(
        `INSERT INTO node_presence (node_id, gateway_id, last_seen_at) VALUES (?, ?, ?)
         ON CONFLICT (node_id, gateway_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      ),
      leftOne: db.prepare<[string, string]>('DELETE FROM node_presence WHERE gateway_id = ? AND node_id = ?'),
      leftAll: db.prepare<[string]>('DELETE FROM node_presence WHERE gateway_id = ?'),
      heardSince: db.prepare<[string, string], { node_id: string; at: string }>(
        'SELECT node_id, max(last_seen_at) AS at FROM node_presence WHERE gateway_id <> ? AND last_seen_at >= ? GROUP BY node_id',
      ),
    };
  }

  async heard(gatewayId: string, nodeIds: readonly string[]): Promise<void> {
    const at = new Date().toISOString();
    this.#db.transaction(() => {
      for (const id of nodeIds) this.#sql.heard.run(id, gatewayId, at);
    })();
  }

  async left(gatewayId: string, nodeIds?: readonly string[]): Promise<void> {
    if (nodeIds === undefined) {
      this.#sql.leftAll.run(gatewayId);
      return;
    }
    this.#db.transaction(() => {
      for (const id of nodeIds) this.#sql.leftOne.run(gatewayId, id);
    })();
  }

  async heardWithin(withinMs: number, gatewayId: string): Promise<Map<string, number>> {
    const now = Date.now();
    const since = new Date(now - withinMs).toISOString();
    return new Map(this.#sql.heardSince.all(gatewayId, since).map((row) => [row.node_id, Math.max(0, now - Date.parse(row.at))]));
  }
}
