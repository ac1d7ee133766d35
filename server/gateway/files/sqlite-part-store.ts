import type Database from 'better-sqlite3';
import type { ChunkRecord, FileChunk } from '../metadata/metadata-store.ts';
import type { PartRecord, PartStore, ResumableSession, SessionRecord } from './upload-parts.ts';

export interface SessionRow {
  id: string;
  created_at: string;
  name: string | null;
  length: number | null;
  expires_at: string | null;
}

export interface PartRow {
  number: number;
  size: number;
  digest: string;
  chunks: string;
  records: string;
  created_at: string;
}

/** Upload sessions and their parts in the metadata's SQLite database (tables upload_sessions, upload_parts). */
export class SqlitePartStore implements PartStore {
  readonly #sql;
  readonly #deleteSession;

  constructor(db: Database.Database) {
    this.#sql = {
      insertSession: db.prepare<[SessionRow]>('INSERT INTO upload_sessions (id, created_at, name, length, expires_at) VALUES (@id, @created_at, @name, @length, @expires_at)'),
      getSession: db.prepare<[string], SessionRow>('SELECT id, created_at, name, length, expires_at FROM upload_sessions WHERE id = ?'),
      setExpiry: db.prepare<[string, string]>('UPDATE upload_sessions SET expires_at = ? WHERE id = ? AND expires_at IS NOT NULL'),
      getPart: db.prepare<[string, number], PartRow>('SELECT * FROM upload_parts WHERE session_id = ? AND number = ?'),
      putPart: db.prepare<[PartRow & { session_id: string }]>(
        `INSERT OR REPLACE INTO upload_parts (session_id, number, size, digest, chunks, records, created_at)
         VALUES (@session_id, @number, @size, @digest, @chunks, @records, @created_at)`,
      ),
      listParts: db.prepare<[string], PartRow>('SELECT * FROM upload_parts WHERE session_id = ? ORDER BY number'),
      deleteParts: db.prepare<[string]>('DELETE FROM upload_parts WHERE session_id = ?'),
      deleteSession: db.prepare<[string]>('DELETE FROM upload_sessions WHERE id = ?'),
      listSessions: db.prepare<[], SessionRow>('SELECT id, created_at, name, length, expires_at FROM upload_sessions ORDER BY created_at, id'),
    };
    this.#deleteSession = db.transaction((id: string) => {
      const parts = this.#sql.listParts.all(id).map(toPart);
      this.#sql.deleteParts.run(id);
      this.#sql.deleteSession.run(id);
      return parts;
    });
  }

  async createSession(id: string, createdAt: string, resumable?: ResumableSession): Promise<void> {
    this.#sql.insertSession.run(sessionRow(id, createdAt, resumable));
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.#sql.getSession.get(id);
    return row && toSession(row);
  }

  async setExpiry(id: string, expiresAt: string): Promise<void> {
    this.#sql.setExpiry.run(expiresAt, id);
  }

  async putPart(sessionId: string, part: PartRecord): Promise<PartRecord | undefined> {
    const previous = this.#sql.getPart.get(sessionId, part.number);
    this.#sql.putPart.run({
      session_id: sessionId,
      number: part.number,
      size: part.size,
      digest: part.digest,
      chunks: JSON.stringify(part.chunks),
      records: JSON.stringify(part.records),
      created_at: part.createdAt,
    });
    return previous && toPart(previous);
  }

  async listParts(sessionId: string): Promise<PartRecord[]> {
    return this.#sql.listParts.all(sessionId).map(toPart);
  }

  async deleteSession(id: string): Promise<PartRecord[]> {
    return this.#deleteSession(id);
  }

  async listSessions(): Promise<SessionRecord[]> {
    return this.#sql.listSessions.all().map(toSession);
  }
}

export function toPart(row: PartRow): PartRecord {
  return {
    number: row.number,
    size: row.size,
    digest: row.digest,
    chunks: JSON.parse(row.chunks) as FileChunk[],
    records: JSON.parse(row.records) as ChunkRecord[],
    createdAt: row.created_at,
  };
}

export function sessionRow(id: string, createdAt: string, resumable?: ResumableSession): SessionRow {
  return { id, created_at: createdAt, name: resumable?.name ?? null, length: resumable?.length ?? null, expires_at: resumable?.expiresAt ?? null };
}

export function toSession(row: SessionRow): SessionRecord {
  const { id, created_at: createdAt, name, length, expires_at: expiresAt } = row;
  return name === null || length === null || expiresAt === null ? { id, createdAt } : { id, createdAt, resumable: { name, length: Number(length), expiresAt } };
}
