import type { InviteInfo } from './api-types.ts';

export type InviteStatus = 'active' | 'revoked' | 'used up' | 'expired';

/**
 * Why an invite can or cannot enrol a tab, the final reasons first. Read against `now` rather than
 * taken from the listing's `active`, so a page left open shows an invite expire when it does.
 */
export function inviteStatus(invite: InviteInfo, now = Date.now()): InviteStatus {
  if (invite.revokedAt !== null) return 'revoked';
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return 'used up';
  if (invite.expiresAt !== null && Date.parse(invite.expiresAt) <= now) return 'expired';
  return 'active';
}

/** "1 of 3 uses", "0 uses": what an invite has enrolled against what it may. */
export function inviteUses(invite: InviteInfo): string {
  return invite.maxUses === null ? `${invite.uses} use${invite.uses === 1 ? '' : 's'}` : `${invite.uses} of ${invite.maxUses} uses`;
}
