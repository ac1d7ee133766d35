import type { InviteInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { inviteStatus, inviteUses } from '../../../shared/invite-status.ts';
import { plural } from '../../../shared/plural.ts';
import { clientFor } from '../client.ts';
import type { CommandSpec } from '../command-spec.ts';
import { stringOption } from '../options.ts';
import { localTime } from '../time.ts';
import { parseDuration } from '../units.ts';

export const inviteCreateCommand: CommandSpec = {
  name: 'invite create',
  group: 'Browser nodes',
  summary: 'make an invite link that lets browser tabs join as nodes',
  client: true,
  flags: {
    expires: { type: 'string', value: 'DURATION', default: '1h', description: 'how long it stays valid: 30m, 1d, never…' },
    uses: { type: 'string', value: 'N', description: 'how many tabs may join with it (default any number)' },
    label: { type: 'string', value: 'TEXT', description: 'a name to know it by in invite list' },
  },
  async run(input) {
    const { values } = input;
    // An invite is a standing right to join: unless asked otherwise it lapses within the hour.
    const expires = stringOption(values.expires) ?? '1h';
    const { invite, token, url } = await clientFor(input).createInvite({
      label: stringOption(values.label),
      expiresInMs: expires === 'never' ? undefined : parseDuration(expires),
      maxUses: usesOption(stringOption(values.uses)),
    });
    const tabs = invite.maxUses === null ? 'any number of browser tabs' : `up to ${plural(invite.maxUses, 'browser tab')}`;
    console.log(`created invite ${invite.id} (${invite.label}): ${invite.expiresAt ? `expires ${localTime(invite.expiresAt)}` : 'never expires'}, ${tabs}`);
    console.log(`open this link in the browser that is to join:\n  ${url}`);
    console.log(`token, shown only now: ${token}`);
  },
};

export const inviteListCommand: CommandSpec = {
  name: 'invite list',
  group: 'Browser nodes',
  summary: 'every invite with its status (active, expired, revoked, used up), uses and expiry',
  client: true,
  async run(input) {
    const invites = await clientFor(input).invites();
    if (invites.length === 0) {
      console.log('no invites (make one with: shoal invite create)');
      return;
    }
    console.log(['ID'.padEnd(12), 'STATUS'.padEnd(8), 'USES'.padEnd(14), 'CREATED'.padEnd(26), 'EXPIRES'.padEnd(26), 'LABEL'].join(' '));
    for (const invite of invites) console.log(row(invite));
  },
};

export const inviteRevokeCommand: CommandSpec = {
  name: 'invite revoke',
  args: '<id>',
  group: 'Browser nodes',
  summary: 'end an invite; the tabs it enrolled stay nodes',
  client: true,
  async run(input) {
    const [id] = input.positionals as [string];
    await clientFor(input).revokeInvite(id);
    console.log(`revoked invite ${id}: its link no longer lets a browser join; tabs it already enrolled stay nodes`);
  },
};

function usesOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const uses = Number(text);
  if (!Number.isSafeInteger(uses) || uses < 1) throw new ShoalError('BAD_REQUEST', `--uses needs a whole number of at least 1, got ${text}`);
  return uses;
}

function row(invite: InviteInfo): string {
  return [
    invite.id.padEnd(12),
    inviteStatus(invite).padEnd(8),
    inviteUses(invite).padEnd(14),
    localTime(invite.createdAt).padEnd(26),
    (invite.expiresAt ? localTime(invite.expiresAt) : 'never').padEnd(26),
    invite.label,
  ].join(' ');
}
