import type { TokenInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { isRole } from '../../gateway/auth/roles.ts';
import { clientFor } from '../client.ts';
import { JSON_FLAG, type CommandSpec } from '../command-spec.ts';
import { stringOption } from '../options.ts';
import { localTime } from '../time.ts';

const GROUP = 'Access';

export const tokenCreateCommand: CommandSpec = {
  name: 'token create',
  group: GROUP,
  summary: 'make an API token for a client or a person (admin)',
  client: true,
  flags: {
    role: { type: 'string', value: 'ROLE', description: 'read (files, nodes, health), write (also upload and delete files) or admin (everything)' },
    name: { type: 'string', value: 'TEXT', description: 'a name to know it by in token list' },
  },
  details: 'The token is printed once; the gateway keeps only its SHA-256. Clients send it as Authorization: Bearer; shoal commands take it with --token or SHOAL_TOKEN.',
  async run(input) {
    const role = stringOption(input.values.role);
    if (!isRole(role)) throw new ShoalError('BAD_REQUEST', 'token create needs --role read, write or admin');
    const { token, secret } = await clientFor(input).createToken({ role, name: stringOption(input.values.name) });
    console.log(`created ${token.role} token ${token.id} (${token.name})`);
    console.log(`token, shown only now: ${secret}`);
  },
};

export const tokenListCommand: CommandSpec = {
  name: 'token list',
  group: GROUP,
  summary: 'every API token with its role, and whether it was revoked (admin)',
  client: true,
  flags: { json: JSON_FLAG },
  async run(input) {
    const tokens = await clientFor(input).tokens();
    if (input.values.json) {
      console.log(JSON.stringify(tokens, null, 2));
      return;
    }
    console.log(['ID'.padEnd(12), 'ROLE'.padEnd(6), 'STATUS'.padEnd(8), 'CREATED'.padEnd(26), 'NAME'].join(' '));
    for (const token of tokens) console.log(row(token));
  },
};

export const tokenRevokeCommand: CommandSpec = {
  name: 'token revoke',
  args: '<id>',
  group: GROUP,
  summary: 'end an API token and the dashboard logins made with it (admin)',
  client: true,
  async run(input) {
    const [id] = input.positionals as [string];
    await clientFor(input).revokeToken(id);
    console.log(`revoked token ${id}: calls with it are refused from now on, and the dashboard sessions it opened have ended`);
  },
};

export const loginLinkCommand: CommandSpec = {
  name: 'login-link',
  group: GROUP,
  summary: 'a one-time link that logs a browser in to the dashboard with this token',
  client: true,
  details: 'The link works once, within 15 minutes; the browser then holds a session cookie for 7 days.',
  async run(input) {
    const { url, expiresAt } = await clientFor(input).createLoginLink();
    console.log(`open this link once, before ${localTime(expiresAt)}:\n  ${url}`);
  },
};

function row(token: TokenInfo): string {
  return [token.id.padEnd(12), token.role.padEnd(6), (token.revokedAt ? 'revoked' : 'active').padEnd(8), localTime(token.createdAt).padEnd(26), token.name].join(' ');
}
