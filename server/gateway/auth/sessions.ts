import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../sha256.ts';
import type { TokenRecord, TokenStore } from './token-store.ts';

export const SESSION_COOKIE = 'shoal_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60_000;

/**
 * Browser sessions: a login trades a token (or a login code standing for one) for a random cookie
 * value, kept as its hash with an expiry. A session has its token's role and ends with it.
 */
export class Sessions {
  readonly #store: TokenStore;
  readonly #ttlMs: number;

  constructor(store: TokenStore, ttlMs = SESSION_TTL_MS) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  async open(tokenId: string): Promise<{ secret: string; maxAgeSeconds: number }> {
    const now = Date.now();
    // Each login forgets the expired ones, so the table holds at most a TTL's worth of logins.
    await this.#store.deleteExpiredSessions(new Date(now).toISOString());
    const secret = `sess_${randomBytes(32).toString('base64url')}`;
    await this.#store.createSession({ sessionHash: sha256Hex(secret), tokenId, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + this.#ttlMs).toISOString() });
    return { secret, maxAgeSeconds: Math.floor(this.#ttlMs / 1000) };
  }

  /** The active token of the session whose cookie this is, or undefined. */
  async token(secret: string): Promise<TokenRecord | undefined> {
    return this.#store.sessionToken(sha256Hex(secret), new Date().toISOString());
  }

  async close(secret: string): Promise<void> {
    await this.#store.deleteSession(sha256Hex(secret));
  }
}
