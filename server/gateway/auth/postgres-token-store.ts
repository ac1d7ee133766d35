import type { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { fromRow, type TokenRow } from './sqlite-token-store.ts';
import type { SessionRecord, TokenRecord, TokenStore } from './token-store.ts';

/** Tokens and sessions in the metadata's PostgreSQL database (tables made by its migrations), as SqliteTokenStore keeps them. */
export class PostgresTokenStore implements TokenStore {
  readonly #metadata: PostgresMetadataStore;

  constructor(metadata: PostgresMetadataStore) {
    this.#metadata = metadata;
  }

  async createToken(record: TokenRecord): Promise<void> {
    await this.#metadata.write('INSERT INTO api_tokens (id, token_hash, name, role, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      record.id,
      record.tokenHash,
      record.name,
      record.role,
      record.createdAt,
      record.revokedAt,
    ]);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#metadata.pool.query<TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id')).rows.map(fromRow);
  }

  async tokenByHash(tokenHash: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#metadata.pool.query<TokenRow>('SELECT * FROM api_tokens WHERE token_hash = $1', [tokenHash]);
    return rows[0] && fromRow(rows[0]);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    return (await this.#metadata.write('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2', [at, id])) > 0;
  }

  async createSession(record: SessionRecord): Promise<void> {
    await this.#metadata.write('INSERT INTO api_sessions (session_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
      record.sessionHash,
      record.tokenId,
      record.createdAt,
      record.expiresAt,
    ]);
  }

  async sessionToken(sessionHash: string, now: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#metadata.pool.query<TokenRow>(
      `SELECT t.* FROM api_sessions s JOIN api_tokens t ON t.id = s.token_id
       WHERE s.session_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL`,
      [sessionHash, now],
    );
    return rows[0] && fromRow(rows[0]);
  }

  async deleteSession(sessionHash: string): Promise<void> {
    await this.#metadata.write('DELETE FROM api_sessions WHERE session_hash = $1', [sessionHash]);
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.#metadata.write('DELETE FROM api_sessions WHERE expires_at <= $1', [now]);
  }
}
