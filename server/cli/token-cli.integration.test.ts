import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runShoal, TestCluster } from '../testing/cluster.ts';

let cluster: TestCluster;
let elsewhere: string;

before(async () => {
  cluster = await TestCluster.start({ nodes: 1, replicas: 1 });
  // A directory that is not the gateway's: commands run from there find no admin token.
  elsewhere = await mkdtemp(join(tmpdir(), 'shoal-elsewhere-'));
});

after(async () => {
  await cluster?.stop();
  await rm(elsewhere, { recursive: true, force: true });
});

const local = () => ['--data', cluster.dataDir, '--gateway', cluster.url];
const remote = (token: string) => ['--data', elsewhere, '--gateway', cluster.url, '--token', token];

test('on the gateway machine, commands use DATA/admin-token; elsewhere, without a token, they are refused', async () => {
  const ls = await runShoal(['ls', ...local()]);
  assert.equal(ls.code, 0, ls.stderr);
  const refused = await runShoal(['ls', '--data', elsewhere, '--gateway', cluster.url]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /needs an API token/);
});

test('token create, list and revoke: a read token lists but cannot upload, and once revoked it is refused', async () => {
  const created = await runShoal(['token', 'create', '--role', 'read', '--name', 'dashboard viewer', ...local()]);
  assert.equal(created.code, 0, created.stderr);
  const secret = /token, shown only now: (shoal_\S+)/.exec(created.stdout)?.[1];
  const id = /created read token ([0-9a-f]+) \(dashboard viewer\)/.exec(created.stdout)?.[1];
  assert.ok(secret && id, created.stdout);

  const file = join(elsewhere, 'note.txt');
  await writeFile(file, 'hello');
  assert.equal((await runShoal(['ls', ...remote(secret)])).code, 0);
  const upload = await runShoal(['upload', file, ...remote(secret)]);
  assert.equal(upload.code, 1);
  assert.match(upload.stderr, /needs the write role; the token dashboard viewer has read/);
  const fromEnv = await runShoal(['token', 'list', '--data', elsewhere, '--gateway', cluster.url], { SHOAL_TOKEN: secret });
  assert.match(fromEnv.stderr, /needs the admin role/, 'SHOAL_TOKEN is sent');

  const list = await runShoal(['token', 'list', ...local()]);
  assert.match(list.stdout, new RegExp(`^${id}\\s+read\\s+active\\s.*dashboard viewer$`, 'm'));
  assert.match(list.stdout, /\badmin\s+active\s.*admin-token$/m);
  assert.ok(!list.stdout.includes(secret));

  assert.equal((await runShoal(['token', 'revoke', id, ...local()])).code, 0);
  assert.match((await runShoal(['token', 'list', ...local()])).stdout, new RegExp(`^${id}\\s+read\\s+revoked`, 'm'));
  const after = await runShoal(['ls', ...remote(secret)]);
  assert.equal(after.code, 1);
  assert.match(after.stderr, /unknown or revoked/);

  const writer = /token, shown only now: (shoal_\S+)/.exec((await runShoal(['token', 'create', '--role', 'write', ...local()])).stdout)?.[1];
  const stored = await runShoal(['upload', file, ...remote(writer!)]);
  assert.equal(stored.code, 0, stored.stderr);
  assert.equal((await runShoal(['token', 'create', '--role', 'root', ...local()])).code, 2);
});

test('login-link prints a one-time dashboard link', async () => {
  const printed = await runShoal(['login-link', ...local()]);
  assert.equal(printed.code, 0, printed.stderr);
  const code = /\/login#code=(login_\S+)/.exec(printed.stdout)?.[1];
  assert.ok(code, printed.stdout);
  const login = () => fetch(`${cluster.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  assert.equal((await login()).status, 200);
  assert.equal((await login()).status, 401);
});
