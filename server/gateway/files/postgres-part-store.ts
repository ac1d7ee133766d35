import type { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { sessionRow, toPart, toSession, type PartRow, type SessionRow } from './sqlite-part-store.ts';
import type { PartRecord, PartStore, ResumableSession, SessionRecord } from './upload-parts.ts';

/** Upload sessions and their parts in the metadata's PostgreSQL database, as SqlitePartStore keeps them. */
export class PostgresPartStore implements PartStore {
  readonly #metadata: PostgresMetadataStore;

  constructor(metadata: PostgresMetadataStore) {
    this.#metadata = metadata;
  }

  async createSession(id: string, createdAt: string, resumable?: ResumableSession): Promise<void> {
    const row = sessionRow(id, createdAt, resumable);
    await this.#metadata.write('INSERT INTO upload_sessions (id, created_at, name, length, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      row.id,
      row.created_at,
      row.name,
      row.length,
      row.expires_at,
    ]);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.#metadata.pool.query<SessionRow>('SELECT id, created_at, name, length, expires_at FROM upload_sessions WHERE id = $1', [id]);
    return rows[0] && toSession(rows[0]);
  }

  async setExpiry(id: string, expiresAt: string): Promise<void> {
    await this.#metadata.write('UPDATE upload_sessions SET expires_at = $1 WHERE id = $2 AND expires_at IS NOT NULL', [expiresAt, id]);
  }

  async putPart(sessionId: string, part: PartRecord): Promise<PartRecord | undefined> {
    return this.#metadata.transaction(async (db) => {
      const previous = (await db.query<PartRow>('SELECT * FROM upload_parts WHERE session_id = $1 AND number = $2', [sessionId, part.number])).rows[0];
      await db.query(
        `INSERT INTO upload_parts (session_id, number, size, digest, chunks, records, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (session_id, number) DO UPDATE SET size = excluded.size, digest = excluded.digest, chunks = excluded.chunks,
           records = excluded.records, created_at = excluded.created_at`,
        [sessionId, part.number, part.size, part.digest, JSON.stringify(part.chunks), JSON.stringify(part.records), part.createdAt],
      );
      return previous && toPart(previous);
    });
  }

  async listParts(sessionId: string): Promise<PartRecord[]> {
    const { rows } = await this.#metadata.pool.query<PartRow>('SELECT * FROM upload_parts WHERE session_id = $1 ORDER BY number', [sessionId]);
    return rows.map(toPart);
  }

  async deleteSession(id: string): Promise<PartRecord[]> {
    return this.#metadata.transaction(async (db) => {
      const { rows } = await db.query<PartRow>('DELETE FROM upload_parts WHERE session_id = $1 RETURNING *', [id]);
      await db.query('DELETE FROM upload_sessions WHERE id = $1', [id]);
      return rows.sort((a, b) => a.number - b.number).map(toPart);
    });
  }

  async listSessions(): Promise<SessionRecord[]> {
    const { rows } = await this.#metadata.pool.query<SessionRow>('SELECT id, created_at, name, length, expires_at FROM upload_sessions ORDER BY created_at, id');
    return rows.map(toSession);
  }
}
