import { randomBytes } from 'node:crypto';
import type { InviteInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import type { InviteRecord, MetadataStore } from '../metadata/metadata-store.ts';

export interface InviteRequest {
  label?: string;
  expiresInMs?: number;
  maxUses?: number;
}

const MAX_LABEL = 100;

/** Invites that let browser tabs join: made, listed and revoked by an admin; only hashes are kept. */
export class Invites {
  readonly #metadata: MetadataStore;

  constructor(metadata: MetadataStore) {
    this.#metadata = metadata;
  }

  async create(request: InviteRequest): Promise<{ invite: InviteInfo; token: string }> {
    const { label = 'browser node', expiresInMs, maxUses } = request;
    if (typeof label !== 'string' || label.length > MAX_LABEL) throw new ShoalError('BAD_REQUEST', `label must be text of at most ${MAX_LABEL} characters`);
    if (expiresInMs !== undefined && !(Number.isSafeInteger(expiresInMs) && expiresInMs > 0)) throw new ShoalError('BAD_REQUEST', 'expiresInMs must be a positive whole number');
    if (maxUses !== undefined && !(Number.isSafeInteger(maxUses) && maxUses > 0)) throw new ShoalError('BAD_REQUEST', 'maxUses must be a positive whole number');
    const token = `inv_${randomBytes(24).toString('base64url')}`;
    const now = Date.now();
    const record: InviteRecord = {
      id: randomBytes(6).toString('hex'),
      tokenHash: sha256Hex(token),
      label,
      createdAt: new Date(now).toISOString(),
      expiresAt: expiresInMs === undefined ? null : new Date(now + expiresInMs).toISOString(),
      maxUses: maxUses ?? null,
      uses: 0,
      revokedAt: null,
    };
    await this.#metadata.createInvite(record);
    return { invite: toInfo(record), token };
  }

  async list(): Promise<InviteInfo[]> {
    return (await this.#metadata.listInvites()).map(toInfo);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#metadata.revokeInvite(id, new Date().toISOString()))) throw new ShoalError('NOT_FOUND', `no invite ${JSON.stringify(id)}`);
  }
}

function toInfo(record: InviteRecord): InviteInfo {
  const { tokenHash: _secret, ...shown } = record;
  const active =
    record.revokedAt === null &&
    (record.expiresAt === null || Date.parse(record.expiresAt) > Date.now()) &&
    (record.maxUses === null || record.uses < record.maxUses);
  return { ...shown, active };
}
