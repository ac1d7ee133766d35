import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InviteInfo } from './api-types.ts';
import { inviteStatus, inviteUses } from './invite-status.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const base: InviteInfo = { id: 'a1', label: 'x', createdAt: '2026-01-01T11:00:00Z', expiresAt: null, maxUses: null, uses: 0, revokedAt: null, active: true };

test('an invite is active until revoked, used up or expired, and the final reasons come first', () => {
  assert.equal(inviteStatus(base, NOW), 'active');
  assert.equal(inviteStatus({ ...base, expiresAt: '2026-01-01T12:00:01Z' }, NOW), 'active');
  assert.equal(inviteStatus({ ...base, expiresAt: '2026-01-01T12:00:00Z' }, NOW), 'expired');
  assert.equal(inviteStatus({ ...base, maxUses: 2, uses: 2, expiresAt: '2026-01-01T11:30:00Z' }, NOW), 'used up');
  assert.equal(inviteStatus({ ...base, maxUses: 2, uses: 2, revokedAt: '2026-01-01T11:10:00Z' }, NOW), 'revoked');
});

test('uses read against the limit, when there is one', () => {
  assert.equal(inviteUses(base), '0 uses');
  assert.equal(inviteUses({ ...base, uses: 1 }), '1 use');
  assert.equal(inviteUses({ ...base, uses: 1, maxUses: 3 }), '1 of 3 uses');
});
