import type { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import type { NodePresence } from './node-presence.ts';

/**
 * Node presence in the metadata's PostgreSQL database, as SqliteNodePresence keeps it: one
 * statement however many nodes. Rows are stamped and judged by the database's clock, as the
 * gateways directory and the leases are.
 */
export class PostgresNodePresence implements NodePresence {
  readonly #metadata: PostgresMetadataStore;

  constructor(metadata: PostgresMetadataStore) {
    this.#metadata = metadata;
  }

  async heard(gatewayId: string, nodeIds: readonly string[]): Promise<void> {
    if (nodeIds.length === 0) return;
    await this.#metadata.write(
      `INSERT INTO node_presence (node_id, gateway_id, last_seen_at) SELECT unnest($1::text[]), $2, clock_timestamp()
       ON CONFLICT (node_id, gateway_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      [nodeIds, gatewayId],
    );
  }

  async left(gatewayId: string, nodeIds?: readonly string[]): Promise<void> {
    if (nodeIds === undefined) await this.#metadata.write('DELETE FROM node_presence WHERE gateway_id = $1', [gatewayId]);
    else await this.#metadata.write('DELETE FROM node_presence WHERE gateway_id = $1 AND node_id = ANY($2::text[])', [gatewayId, nodeIds]);
  }

  async heardWithin(withinMs: number, gatewayId: string): Promise<Map<string, number>> {
    const { rows } = await this.#metadata.pool.query<{ node_id: string; age_ms: number }>(
      `SELECT node_id, greatest(0, extract(epoch FROM clock_timestamp() - max(last_seen_at)) * 1000)::float8 AS age_ms FROM node_presence
       WHERE gateway_id <> $1 AND last_seen_at >= clock_timestamp() - $2::float8 * interval '1 millisecond' GROUP BY node_id`,
      [gatewayId, withinMs],
    );
    return new Map(rows.map((row) => [row.node_id, row.age_ms]));
  }
}
