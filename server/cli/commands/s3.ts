import type { S3KeyInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { isRole } from '../../gateway/auth/roles.ts';
import { clientFor } from '../client.ts';
import { JSON_FLAG, type CommandSpec } from '../command-spec.ts';
import { stringOption } from '../options.ts';
import { localTime } from '../time.ts';

const GROUP = 'Access';

export const s3KeyCreateCommand: CommandSpec = {
  name: 's3 key create',
  group: GROUP,
  summary: 'make an S3 access key and secret for S3 clients (admin)',
  client: true,
  flags: {
    role: { type: 'string', value: 'ROLE', description: 'read (get, head, list), write (also put, copy, delete, multipart, buckets) or admin' },
    name: { type: 'string', value: 'TEXT', description: 'a name to know it by in s3 key list' },
  },
  details:
    'The secret is printed once. Give both to an S3 client (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) with the gateway started with --s3-port; ' +
    'the gateway keeps the secret sealed with a key in its data directory, as signatures need it.',
  async run(input) {
    const role = stringOption(input.values.role);
    if (!isRole(role)) throw new ShoalError('BAD_REQUEST', 's3 key create needs --role read, write or admin');
    const { key, secret } = await clientFor(input).createS3Key({ role, name: stringOption(input.values.name) });
    console.log(`created ${key.role} S3 key (${key.name})`);
    console.log(`access key id:                   ${key.id}`);
    console.log(`secret access key, shown only now: ${secret}`);
  },
};

export const s3KeyListCommand: CommandSpec = {
  name: 's3 key list',
  group: GROUP,
  summary: 'every S3 access key with its role, and whether it was revoked (admin)',
  client: true,
  flags: { json: JSON_FLAG },
  async run(input) {
    const keys = await clientFor(input).s3Keys();
    if (input.values.json) {
      console.log(JSON.stringify(keys, null, 2));
      return;
    }
    console.log(['ACCESS KEY ID'.padEnd(20), 'ROLE'.padEnd(6), 'STATUS'.padEnd(8), 'CREATED'.padEnd(26), 'NAME'].join(' '));
    for (const key of keys) console.log(row(key));
  },
};

export const s3KeyRevokeCommand: CommandSpec = {
  name: 's3 key revoke',
  args: '<id>',
  group: GROUP,
  summary: 'end an S3 access key (admin)',
  client: true,
  async run(input) {
    const [id] = input.positionals as [string];
    await clientFor(input).revokeS3Key(id);
    console.log(`revoked S3 key ${id}: requests signed with it are refused from now on`);
  },
};

function row(key: S3KeyInfo): string {
  return [key.id.padEnd(20), key.role.padEnd(6), (key.revokedAt ? 'revoked' : 'active').padEnd(8), localTime(key.createdAt).padEnd(26), key.name].join(' ');
}
