import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../sha256.ts';

export const LOGIN_CODE_TTL_MS = 15 * 60_000;
const MAX_CODES = 100;

/**
 * One-time codes that log a browser in as a token, so the link the gateway prints carries no
 * token: what stays in the browser's history is a used code. Kept in memory as hashes, for
 * `ttlMs` at most; a restart voids them all.
 */
export class LoginCodes {
  readonly #codes = new Map<string, { tokenId: string; expiresAt: number }>();
  readonly #ttlMs: number;

  constructor(ttlMs = LOGIN_CODE_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  create(tokenId: string): { code: string; expiresAt: Date } {
    this.#forgetExpired();
    if (this.#codes.size >= MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    const code = `login_${randomBytes(24).toString('base64url')}`;
    const expiresAt = Date.now() + this.#ttlMs;
    this.#codes.set(sha256Hex(code), { tokenId, expiresAt });
    return { code, expiresAt: new Date(expiresAt) };
  }

  /** The token the code stands for, once; undefined if it is unknown, used or expired. */
  redeem(code: string): string | undefined {
    const key = sha256Hex(code);
    const entry = this.#codes.get(key);
    this.#codes.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.tokenId : undefined;
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [key, entry] of this.#codes) if (entry.expiresAt <= now) this.#codes.delete(key);
  }
}
