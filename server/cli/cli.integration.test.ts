import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytesSeeded, runShoal, TestCluster, waitFor } from '../testing/cluster.ts';

describe('the shoal CLI against a real cluster', () => {
  let cluster: TestCluster;
  let env: Record<string, string>;

  before(async () => {
    cluster = await TestCluster.start({ nodes: 0 });
    env = { SHOAL_DATA: cluster.dataDir, SHOAL_GATEWAY: cluster.url };
  });
  after(async () => {
    await cluster?.stop();
  });

  test('node create records nodes that node list shows, and node start brings them online', async () => {
    const created = await runShoal(['node', 'create', 'alpha', '--storage', '512MB', '--cpu', '2'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created node alpha: 512 MB/);
    assert.equal((await runShoal(['node', 'create', 'beta', '--storage', '1'], env)).code, 0);
    const duplicate = await runShoal(['node', 'create', 'alpha'], env);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /^shoal: node alpha already exists/);
    const nodesJson = JSON.parse(await readFile(join(cluster.dataDir, 'nodes.json'), 'utf8'));
    assert.deepEqual(nodesJson.nodes.map((n: { id: string; capacityBytes: number }) => [n.id, n.capacityBytes]), [['alpha', 512e6], ['beta', 1e9]]);
    cluster.startNode('alpha');
    cluster.startNode('beta');
    await cluster.waitForOnline(2);
    const list = await runShoal(['node', 'list'], env);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /alpha\s+running\s+512 MB\s+2/);
    assert.match(list.stdout, /beta\s+running\s+1 GB\s/);
  });

  test('upload several files, list, download with verification, status, rm', async () => {
    const a = join(cluster.dataDir, 'a.bin');
    const b = join(cluster.dataDir, 'photo one.jpg');
    await writeFile(a, randomBytesSeeded(9 * 1024 * 1024 + 3, 5));
    await writeFile(b, randomBytesSeeded(1000, 6));
    const up = await runShoal(['upload', a, b], env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /uploaded a\.bin: 9\.44 MB, 3 chunks × 2 replicas/);
    assert.match(up.stdout, /uploaded photo one\.jpg/);
    const named = await runShoal(['upload', b, '--name', 'albums/2026/one.jpg'], env);
    assert.equal(named.code, 0, named.stderr);

    const ls = await runShoal(['ls'], env);
    assert.match(ls.stdout, /9\.44 MB\s+3 ok\s+.* a\.bin/);
    assert.match(ls.stdout, /albums\/2026\/one\.jpg/);

    const out = join(cluster.dataDir, 'back.bin');
    const down = await runShoal(['download', 'a.bin', '-o', out], env);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /sha256 verified/);
    assert.ok((await readFile(out)).equals(await readFile(a)));

    const status = await runShoal(['status'], env);
    assert.match(status.stdout, /cluster ok: 2\/2 nodes online, 3 files/);

    assert.equal((await runShoal(['rm', 'photo one.jpg'], env)).code, 0);
    assert.doesNotMatch((await runShoal(['ls'], env)).stdout, /photo one\.jpg/);
  });

  test('failures are one clear line on stderr and a non-zero exit', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp, number]> = [
      [['download', 'missing.bin'], env, /^shoal: no file named "missing\.bin"\n$/, 1],
      [['node', 'start', 'ghost'], env, /^shoal: no node "ghost" in .*nodes\.json \(create it with: shoal node create ghost\)\n$/, 1],
      [['ls'], { ...env, SHOAL_GATEWAY: 'http://127.0.0.1:1' }, /^shoal: cannot reach the gateway at http:\/\/127\.0\.0\.1:1: is it running\?\n$/, 1],
      [['frobnicate'], env, /^shoal: unknown command "frobnicate"/, 2],
      [['node', 'create', 'x', '--storage', 'lots'], env, /^shoal: --storage: cannot read "lots" as a size/, 2],
      [['upload', '--bogus'], env, /^shoal: unknown flag --bogus \(see: shoal upload --help\)\n$/, 2],
      [['invite', 'revoke', 'nosuchinvite'], env, /^shoal: no invite "nosuchinvite"\n$/, 1],
      [['invite', 'create', '--uses', '0'], env, /^shoal: --uses needs a whole number of at least 1, got 0\n$/, 2],
      [['invite', 'create', '--expires', 'soon'], env, /^shoal: cannot read "soon" as a duration/, 2],
      [['invite', 'frobnicate'], env, /^shoal: unknown command "invite frobnicate"/, 2],
      [['invite', 'revoke'], env, /^shoal: missing <id> \(see: shoal invite revoke --help\)\n$/, 2],
      [['gateway', '--allowed-origins', 'not an origin'], env, /^shoal: --allowed-origins needs origins like http:\/\/127\.0\.0\.1:5173, got "not an origin"\n$/, 2],
    ];
    for (const [args, caseEnv, stderr, code] of cases) {
      const result = await runShoal(args, caseEnv);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, stderr, args.join(' '));
    }
  });

  test('invite create prints the link and token of an invite the gateway holds, an hour long by default', async () => {
    const created = await runShoal(['invite', 'create', '--uses', '2', '--label', 'kitchen laptop'], env);
    assert.equal(created.code, 0, created.stderr);
    const url = /^ {2}(http:\/\/\S+)$/m.exec(created.stdout)?.[1];
    const token = /^token, shown only now: (inv_\S+)$/m.exec(created.stdout)?.[1];
    assert.equal(url, `${cluster.url}/node?invite=${token}`);
    assert.match(created.stdout, /^created invite [0-9a-f]{12} \(kitchen laptop\): expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d, up to 2 browser tabs$/m);

    const invite = (await cluster.client.invites()).find((i) => i.label === 'kitchen laptop');
    assert.equal(invite?.maxUses, 2);
    assert.ok(Math.abs(Date.parse(invite!.expiresAt!) - Date.parse(invite!.createdAt) - 3_600_000) < 1000, 'it expires in an hour');
  });

  test('invite list shows every invite with its status and uses; invite revoke ends one', async () => {
    assert.equal((await runShoal(['invite', 'create', '--expires', 'never', '--label', 'for good'], env)).code, 0);
    const forGood = (await cluster.client.invites()).find((i) => i.label === 'for good')!;
    assert.equal(forGood.expiresAt, null);

    const listed = await runShoal(['invite', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+STATUS\s+USES\s+CREATED\s+EXPIRES\s+LABEL$/m);
    assert.match(listed.stdout, new RegExp(`^${forGood.id}\\s+active\\s+0 uses\\s+\\S+ \\S+ [+-]\\d\\d:\\d\\d\\s+never\\s+for good$`, 'm'));
    assert.match(listed.stdout, /^[0-9a-f]{12}\s+active\s+0 of 2 uses\s+.* [+-]\d\d:\d\d\s+kitchen laptop$/m);

    const revoked = await runShoal(['invite', 'revoke', forGood.id], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^revoked invite ${forGood.id}`));
    assert.match((await runShoal(['invite', 'list'], env)).stdout, new RegExp(`^${forGood.id}\\s+revoked\\s`, 'm'));
    assert.notEqual((await cluster.client.invites()).find((i) => i.id === forGood.id)?.revokedAt, null);
  });

  test('with too few nodes online the upload says so', async () => {
    await cluster.killNode('beta');
    await waitFor(async () => (await cluster.nodeStatus('beta')) === 'offline', 30_000, 'beta offline');
    const file = join(cluster.dataDir, 'late.bin');
    await writeFile(file, randomBytesSeeded(100, 1));
    const result = await runShoal(['upload', file], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^shoal: 1 node\(s\) online and linked to this gateway, 2 needed for 2 replicas\n$/);
  });
});
