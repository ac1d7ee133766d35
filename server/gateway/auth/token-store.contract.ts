import assert from 'node:assert/strict';
import { contractCase, type ContractCase } from '../../../shared/chunk-store.contract.ts';
import type { SessionRecord, TokenRecord, TokenStore } from './token-store.ts';

/** The behaviour every TokenStore must show, as plain async cases any test runner (and a PostgreSQL store) can run. */
export interface TokenStoreHarness {
  store: TokenStore;
  cleanup: () => Promise<void>;
}

export function tokenStoreContract(factory: () => Promise<TokenStoreHarness>): ContractCase[] {
  const withStore = (name: string, body: (store: TokenStore) => Promise<void>): ContractCase => contractCase(factory, name, (harness) => body(harness.store));

  const token = (id: string, role: TokenRecord['role'] = 'read'): TokenRecord => ({
    id,
    tokenHash: id.repeat(64).slice(0, 64),
    name: `token ${id}`,
    role,
    createdAt: `2026-01-01T00:00:0${id.length}.000Z`,
    revokedAt: null,
  });
  const session = (hash: string, tokenId: string, expiresAt: string): SessionRecord => ({ sessionHash: hash, tokenId, createdAt: '2026-01-01T00:00:00.000Z', expiresAt });

  return [
    withStore('tokens are found by hash, listed in creation order, and revoked once', async (store) => {
      await store.createToken(token('a', 'admin'));
      await store.createToken(token('bb', 'write'));
      assert.deepEqual(await store.tokenByHash(token('a').tokenHash), token('a', 'admin'));
      assert.equal(await store.tokenByHash('f'.repeat(64)), undefined);
      assert.deepEqual((await store.listTokens()).map((t) => t.id), ['a', 'bb']);
      assert.equal(await store.revokeToken('bb', '2026-02-01T00:00:00.000Z'), true);
      assert.equal(await store.revokeToken('bb', '2026-03-01T00:00:00.000Z'), true);
      assert.equal((await store.tokenByHash(token('bb').tokenHash))?.revokedAt, '2026-02-01T00:00:00.000Z', 'the first revocation stands');
      assert.equal(await store.revokeToken('nope', '2026-02-01T00:00:00.000Z'), false);
      await assert.rejects(store.createToken({ ...token('c'), tokenHash: token('a').tokenHash }), 'a hash belongs to one token');
    }),
    withStore('a session answers with its token until it expires, is deleted, or its token is revoked', async (store) => {
      await store.createToken(token('a', 'write'));
      await store.createToken(token('bb'));
      await store.createSession(session('s1', 'a', '2026-01-02T00:00:00.000Z'));
      await store.createSession(session('s2', 'bb', '2026-01-02T00:00:00.000Z'));
      await store.createSession(session('s3', 'a', '2026-01-01T12:00:00.000Z'));
      assert.equal((await store.sessionToken('s1', '2026-01-01T13:00:00.000Z'))?.role, 'write');
      assert.equal(await store.sessionToken('s3', '2026-01-01T13:00:00.000Z'), undefined, 'expired');
      assert.equal(await store.sessionToken('s9', '2026-01-01T13:00:00.000Z'), undefined, 'unknown');
      await store.revokeToken('bb', '2026-01-01T13:00:00.000Z');
      assert.equal(await store.sessionToken('s2', '2026-01-01T13:00:01.000Z'), undefined, 'its token was revoked');
      await store.deleteSession('s1');
      assert.equal(await store.sessionToken('s1', '2026-01-01T13:00:00.000Z'), undefined, 'logged out');
      assert.equal(await store.deleteExpiredSessions('2026-01-01T13:00:00.000Z'), 1, 's3 only');
      assert.equal(await store.deleteExpiredSessions('2026-01-03T00:00:00.000Z'), 1, 's2');
    }),
  ];
}
