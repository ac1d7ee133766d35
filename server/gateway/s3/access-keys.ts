import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { CreatedS3Key, S3KeyInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { isRole, type Role } from '../auth/roles.ts';
import type { AccessKeyRecord, S3Store } from './s3-store.ts';

/** The data directory file holding the key that seals S3 secrets (secret-file.ts makes it 0600). */
export const S3_SEALING_KEY_FILE = 's3-key-secret';
export const S3_SEALING_KEY_PREFIX = 's3seal_';
const MAX_NAME = 200;

/**
 * S3 access keys. SigV4 signs with the secret itself, so unlike API tokens it cannot be kept as a
 * hash: it is kept sealed (AES-256-GCM) with a key that lives in the data directory, not in the
 * metadata, so a copy of the metadata alone (a backup, a PostgreSQL dump) does not give the secrets away.
 */
export class AccessKeys {
  readonly #store: S3Store;
  readonly #key: Buffer;

  constructor(store: S3Store, sealingSecret: string) {
    this.#store = store;
    this.#key = createHash('sha256').update(sealingSecret).digest();
  }

  async create(request: { role?: unknown; name?: unknown }): Promise<CreatedS3Key> {
    const { role, name = `${String(role)} S3 key` } = request;
    if (!isRole(role)) throw new ShoalError('BAD_REQUEST', 'role must be read, write or admin');
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) throw new ShoalError('BAD_REQUEST', `name must be text of 1 to ${MAX_NAME} characters`);
    // Access key ids are upper-case letters and digits like AWS's, so every client accepts them.
    const id = `SHL${randomBytes(16).toString('hex').toUpperCase().slice(0, 17)}`;
    const secret = randomBytes(30).toString('base64url');
    const record: AccessKeyRecord = { id, sealedSecret: this.#seal(id, secret), name, role, createdAt: new Date().toISOString(), revokedAt: null };
    await this.#store.createAccessKey(record);
    return { key: info(record), secret };
  }

  async list(): Promise<S3KeyInfo[]> {
    return (await this.#store.listAccessKeys()).map(info);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#store.revokeAccessKey(id, new Date().toISOString()))) throw new ShoalError('NOT_FOUND', `no S3 key ${JSON.stringify(id)}`);
  }

  /** The secret and role of an active key, or undefined for a key unknown or revoked. */
  async active(id: string): Promise<{ secret: string; role: Role } | undefined> {
    const record = await this.#store.getAccessKey(id);
    if (!record || record.revokedAt !== null) return undefined;
    return { secret: this.#unseal(id, record.sealedSecret), role: record.role };
  }

  // The key id is the associated data: a sealed secret moved to another key's row does not open.
  #seal(id: string, secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(id));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64url')).join('.');
  }

  #unseal(id: string, sealed: string): string {
    const [iv, tag, data] = sealed.split('.').map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(id)).setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new ShoalError('CONFLICT', `the secret of S3 key ${id} does not open with this data directory's ${S3_SEALING_KEY_FILE}`, { cause: err });
    }
  }
}

function info(record: AccessKeyRecord): S3KeyInfo {
  return { id: record.id, name: record.name, role: record.role, createdAt: record.createdAt, revokedAt: record.revokedAt };
}
