import { ShoalClient } from '../../../shared/api-client.ts';
import type { InviteInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { inviteStatus, inviteUses } from '../../../shared/invite-status.ts';
import { parse, stringOption } from '../options.ts';
import { parseDuration } from '../units.ts';

const CREATE_USAGE = 'usage: shoal invite create [--expires 1h|never] [--uses N] [--label TEXT]';

export async function inviteCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const handler = sub ? SUBCOMMANDS[sub] : undefined;
  if (!handler) throw new ShoalError('BAD_REQUEST', `usage: shoal invite create|list|revoke (got ${sub ?? 'nothing'})`);
  await handler(rest);
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  async create(args) {
    const { values, positionals, gatewayUrl } = parse(args, { expires: { type: 'string' }, uses: { type: 'string' }, label: { type: 'string' } });
    if (positionals.length > 0) throw new ShoalError('BAD_REQUEST', CREATE_USAGE);
    // An invite is a standing right to join: unless asked otherwise it lapses within the hour.
    const expires = stringOption(values.expires) ?? '1h';
    const { invite, token, url } = await new ShoalClient(gatewayUrl).createInvite({
      label: stringOption(values.label),
      expiresInMs: expires === 'never' ? undefined : parseDuration(expires),
      maxUses: usesOption(stringOption(values.uses)),
    });
    console.log(`created invite ${invite.id} (${invite.label}): ${invite.expiresAt ? `expires ${utc(invite.expiresAt)}` : 'never expires'}, ${invite.maxUses === null ? 'any number of' : `up to ${invite.maxUses}`} browser tab(s)`);
    console.log(`open this link in the browser that is to join:\n  ${url}`);
    console.log(`token, shown only now: ${token}`);
  },

  async list(args) {
    const { gatewayUrl } = parse(args, {});
    const invites = await new ShoalClient(gatewayUrl).invites();
    if (invites.length === 0) {
      console.log('no invites (make one with: shoal invite create)');
      return;
    }
    console.log(['ID'.padEnd(12), 'STATUS'.padEnd(8), 'USES'.padEnd(14), 'CREATED'.padEnd(20), 'EXPIRES'.padEnd(20), 'LABEL'].join(' '));
    for (const invite of invites) console.log(row(invite));
  },

  async revoke(args) {
    const { positionals, gatewayUrl } = parse(args, {});
    const [id] = positionals;
    if (!id || positionals.length > 1) throw new ShoalError('BAD_REQUEST', 'usage: shoal invite revoke <id>');
    await new ShoalClient(gatewayUrl).revokeInvite(id);
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
    utc(invite.createdAt).padEnd(20),
    (invite.expiresAt ? utc(invite.expiresAt) : 'never').padEnd(20),
    invite.label,
  ].join(' ');
}

/** "2026-11-26 07:07 UTC": the gateway's ISO times, to the minute. */
function utc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
