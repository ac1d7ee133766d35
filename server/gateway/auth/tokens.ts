import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import type { CreatedToken, TokenInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import { loadSecret } from '../secret-file.ts';
import { isRole, type Role } from './roles.ts';
import type { TokenRecord, TokenStore } from './token-store.ts';

export const TOKEN_PREFIX = 'shoal_';
/** Where the gateway keeps an admin token for the local CLI and the printed login link. */
export const ADMIN_TOKEN_FILE = 'admin-token';
const ADMIN_TOKEN_NAME = 'admin-token';
const MAX_NAME = 100;

/** API tokens: made, listed and revoked by an admin, checked on every call; only hashes are kept. */
export class ApiTokens {
  readonly #store: TokenStore;

  constructor(store: TokenStore) {
    this.#store = store;
  }

  async create(request: { role?: unknown; name?: unknown }): Promise<CreatedToken> {
    const { role, name = `${String(role)} token` } = request;
    if (!isRole(role)) throw new ShoalError('BAD_REQUEST', 'role must be read, write or admin');
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) throw new ShoalError('BAD_REQUEST', `name must be text of 1 to ${MAX_NAME} characters`);
    const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record = await this.#add(secret, role, name);
    return { token: toInfo(record), secret };
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.#store.listTokens()).map(toInfo);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#store.revokeToken(id, new Date().toISOString()))) throw new ShoalError('NOT_FOUND', `no token ${JSON.stringify(id)}`);
  }

  /** The active token whose secret this is, or undefined. */
  async authenticate(secret: string): Promise<TokenRecord | undefined> {
    if (!isTokenShaped(secret)) return undefined;
    const record = await this.#store.tokenByHash(sha256Hex(secret));
    return record && record.revokedAt === null ? record : undefined;
  }

  /**
   * Makes sure `DATA/admin-token` holds an active admin token, so that the local CLI and the login
   * link work without being told one: the first start writes it, a start after the metadata was
   * rebuilt without tokens records it again, and one whose token was revoked (to rotate it, say)
   * writes a new one. Whoever reads the data directory is its admin anyway (SECURITY.md).
   */
  async ensureAdminToken(dataDir: string): Promise<string> {
    const secret = loadSecret(dataDir, ADMIN_TOKEN_FILE, TOKEN_PREFIX);
    const record = await this.#store.tokenByHash(sha256Hex(secret));
    if (!record) {
      await this.#add(secret, 'admin', ADMIN_TOKEN_NAME);
      return secret;
    }
    if (record.revokedAt === null && record.role === 'admin') return secret;
    unlinkSync(`${dataDir}/${ADMIN_TOKEN_FILE}`);
    return this.ensureAdminToken(dataDir);
  }

  async #add(secret: string, role: Role, name: string): Promise<TokenRecord> {
    const record: TokenRecord = { id: randomBytes(6).toString('hex'), tokenHash: sha256Hex(secret), name, role, createdAt: new Date().toISOString(), revokedAt: null };
    await this.#store.createToken(record);
    return record;
  }
}

function isTokenShaped(secret: string): boolean {
  return secret.startsWith(TOKEN_PREFIX) && /^[A-Za-z0-9_-]{43}$/.test(secret.slice(TOKEN_PREFIX.length));
}

function toInfo(record: TokenRecord): TokenInfo {
  const { tokenHash: _secret, ...shown } = record;
  return shown;
}
