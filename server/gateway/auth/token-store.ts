import type { Role } from './roles.ts';

/** An API token as kept: its SHA-256, never the token. */
export interface TokenRecord {
  id: string;
  tokenHash: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

/** A browser session opened with a token; its cookie is kept as its SHA-256 too. */
export interface SessionRecord {
  sessionHash: string;
  tokenId: string;
  createdAt: string;
  expiresAt: string;
}

/**
 * Where API tokens and the sessions they open are kept. A session lives no longer than its
 * token: revoking the token ends its sessions, and an expired session is never answered.
 */
export interface TokenStore {
  createToken(record: TokenRecord): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  tokenByHash(tokenHash: string): Promise<TokenRecord | undefined>;
  /** Marks the token revoked (once: a second revoke keeps the first time); false if there is none. */
  revokeToken(id: string, at: string): Promise<boolean>;
  createSession(record: SessionRecord): Promise<void>;
  /** The active token of an unexpired session, or undefined. */
  sessionToken(sessionHash: string, now: string): Promise<TokenRecord | undefined>;
  deleteSession(sessionHash: string): Promise<void>;
  /** Forgets sessions that expired before `now`; answers how many. */
  deleteExpiredSessions(now: string): Promise<number>;
}
