import type Database from 'better-sqlite3';
import type { Role } from './roles.ts';
import type { SessionRecord, TokenRecord, TokenStore } from './token-store.ts';

/** A token's row, in SQLite and PostgreSQL alike. */
export interface TokenRow {
  id: string;
  token_hash: string;
  name: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
}

/**
 * Tokens and sessions in the metadata's SQLite database (tables `api_tokens` and `api_sessions`,
 * made by its migrations), so a backup of the metadata keeps them.
 */
export class SqliteTokenStore implements TokenStore {
  readonly #sql;

  constructor(db: Database.Database) {
    this.#sql = {
      insertToken: db.prepare<[TokenRecord]>(
        'INSERT INTO api_tokens (id, token_hash, name, role, created_at, revoked_at) VALUES (@id, @tokenHash, @name, @role, @createdAt, @revokedAt)',
      ),
      listTokens: db.prepare<[], TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id'),
      tokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE token_hash = ?'),
      revokeToken: db.prepare<[string, string]>('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
      insertSession: db.prepare<[SessionRecord]>(
        'INSERT INTO api_sessions (session_hash, token_id, created_at, expires_at) VALUES (@sessionHash, @tokenId, @createdAt, @expiresAt)',
      ),
      sessionToken: db.prepare<[string, string], TokenRow>(
        `SELECT t.* FROM api_sessions s JOIN api_tokens t ON t.id = s.token_id
         WHERE s.session_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL`,
      ),
      deleteSession: db.prepare<[string]>('DELETE FROM api_sessions WHERE session_hash = ?'),
      deleteExpired: db.prepare<[string]>('DELETE FROM api_sessions WHERE expires_at <= ?'),
    };
  }

  async createToken(record: TokenRecord): Promise<void> {
    this.#sql.insertToken.run(record);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.#sql.listTokens.all().map(fromRow);
  }

  async tokenByHash(tokenHash: string): Promise<TokenRecord | undefined> {
    const row = this.#sql.tokenByHash.get(tokenHash);
    return row && fromRow(row);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    return this.#sql.revokeToken.run(at, id).changes > 0;
  }

  async createSession(record: SessionRecord): Promise<void> {
    this.#sql.insertSession.run(record);
  }

  async sessionToken(sessionHash: string, now: string): Promise<TokenRecord | undefined> {
    const row = this.#sql.sessionToken.get(sessionHash, now);
    return row && fromRow(row);
  }

  async deleteSession(sessionHash: string): Promise<void> {
    this.#sql.deleteSession.run(sessionHash);
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.#sql.deleteExpired.run(now).changes;
  }
}

export function fromRow(row: TokenRow): TokenRecord {
  return { id: row.id, tokenHash: row.token_hash, name: row.name, role: row.role, createdAt: row.created_at, revokedAt: row.revoked_at };
}
