import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stopChild } from './processes.ts';
import { randomBytesSeeded, runShoal, SHOAL_BIN, TestCluster, waitFor } from '../testing/cluster.ts';

describe('the shoal CLI for scripts and for mistakes', () => {
  let cluster: TestCluster;
  let env: Record<string, string>;

  before(async () => {
    cluster = await TestCluster.start({ nodes: 2 });
    env = { SHOAL_DATA: cluster.dataDir, SHOAL_GATEWAY: cluster.url };
    for (const [name, seed] of [['backups/2026/a.tar', 1], ['backups/b.tar', 2], ['photos/c.jpg', 3]] as const) {
      await cluster.client.upload(name, randomBytesSeeded(1000 + seed, seed));
    }
  });
  after(async () => {
    await cluster?.stop();
  });

  test('every command has its own help, also as `shoal help <command>`', async () => {
    const ls = await runShoal(['ls', '--help']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^Usage: shoal ls \[prefix\] \[flags\]$/m);
    assert.match(ls.stdout, /^ {6}--json {2}/m);
    assert.match(ls.stdout, /^ {6}--gateway URL {2}/m);
    const create = await runShoal(['node', 'create', '--help']);
    assert.match(create.stdout, /^ {6}--storage SIZE {2}how much it may store/m);
    assert.equal((await runShoal(['help', 'node', 'create'])).stdout, create.stdout);
    const group = await runShoal(['node', '--help']);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /shoal node create <id>/);
    assert.doesNotMatch(group.stdout, /shoal upload/);
  });

  test('--json on ls, status and node list', async () => {
    const ls = await runShoal(['ls', '--json'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(JSON.parse(ls.stdout).map((f: { name: string; health: string }) => [f.name, f.health]), [
      ['backups/2026/a.tar', 'ok'],
      ['backups/b.tar', 'ok'],
      ['photos/c.jpg', 'ok'],
    ]);
    const status = JSON.parse((await runShoal(['status', '--json'], env)).stdout);
    assert.equal(status.health.status, 'ok');
    assert.deepEqual(status.nodes.map((n: { id: string }) => n.id).sort(), ['node1', 'node2']);
    const nodes = JSON.parse((await runShoal(['node', 'list', '--json'], env)).stdout);
    assert.deepEqual(nodes.map((n: { id: string; status: string; capacityBytes: number }) => [n.id, n.status, n.capacityBytes]), [
      ['node1', 'running', 1e9],
      ['node2', 'running', 1e9],
    ]);
    assert.ok(nodes.every((n: object) => !('token' in n)), 'node secrets stay out');
  });

  test('ls takes a prefix; times carry their offset', async () => {
    const ls = await runShoal(['ls', 'backups/'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(ls.stdout.trim().split('\n').slice(1).map((line) => line.split(' ').at(-1)), ['backups/2026/a.tar', 'backups/b.tar']);
    assert.match(ls.stdout, / \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d /);
    assert.match((await runShoal(['ls', 'nothing/'], env)).stdout, /^no files under "nothing\/"$/m);
  });

  test('download -o into a directory, existing or ending in /', async () => {
    const dir = join(cluster.dataDir, 'restore');
    const into = await runShoal(['download', 'backups/b.tar', '-o', `${dir}/`], env);
    assert.equal(into.code, 0, into.stderr);
    assert.deepEqual(await readFile(join(dir, 'b.tar')), Buffer.from(randomBytesSeeded(1002, 2)));
    const existing = await runShoal(['download', 'photos/c.jpg', '-o', dir], env);
    assert.equal(existing.code, 0, existing.stderr);
    assert.match(existing.stdout, new RegExp(`to ${join(dir, 'c.jpg')}: 1003 B, sha256 verified`));
    assert.equal((await stat(join(dir, 'c.jpg'))).size, 1003);
  });

  test('mistakes get one friendly line', async () => {
    const hostPort = cluster.url.replace(/^http:\/\//, '');
    const noScheme = await runShoal(['ls', '--gateway', hostPort], { SHOAL_DATA: cluster.dataDir });
    assert.equal(noScheme.code, 0, noScheme.stderr);
    const cases: Array<[string[], RegExp]> = [
      [['ls', '--gatway', cluster.url], /^shoal: unknown flag --gatway; did you mean --gateway\? \(see: shoal ls --help\)\n$/],
      [['node', 'create', 'x', '--storage', '-5'], /^shoal: --storage needs a size like 512MB, 1GB or 4MiB, not a negative one \(got -5\)\n$/],
      [['upload', '--name'], /^shoal: --name needs a value \(NAME\) \(see: shoal upload --help\)\n$/],
      [['ls', '--json=yes'], /^shoal: --json takes no value/],
      [['ls', 'a', 'b'], /^shoal: unexpected argument "b" \(see: shoal ls --help\)\n$/],
      [['stauts'], /^shoal: unknown command "stauts"; did you mean shoal status\?/],
      [['ls', '--gateway', 'ftp://x'], /^shoal: --gateway needs a gateway URL like http:\/\/127\.0\.0\.1:8000, got "ftp:\/\/x"\n$/],
    ];
    for (const [args, stderr] of cases) {
      const result = await runShoal(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, stderr, args.join(' '));
    }
  });

  test('node start logs a start-up line when its output is no terminal', async () => {
    assert.equal((await runShoal(['node', 'create', 'gamma', '--storage', '100MB'], env)).code, 0);
    const child = spawn(process.execPath, [SHOAL_BIN, 'node', 'start', 'gamma'], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await waitFor(async () => out.includes('\n'), 30_000, 'a start-up line');
      assert.match(out, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d node gamma started \\(pid ${child.pid}\\): 100 MB in \\S+, connecting to ${cluster.url}\\n`));
    } finally {
      await stopChild(child);
    }
    assert.equal((await runShoal(['node', 'remove', 'gamma', '--force'], env)).code, 0);
  });

  test('status exits 0 when ok, 3 when degraded, 4 when a file cannot be read', async () => {
    const ok = await runShoal(['status'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^cluster ok: 2\/2 nodes online, 3 files, \d+ chunks, 0 under-replicated,/m);
    await cluster.killNode('node2');
    await waitFor(async () => (await cluster.nodeStatus('node2')) === 'offline', 30_000, 'node2 offline');
    const degraded = await runShoal(['status'], env);
    assert.equal(degraded.code, 3, degraded.stdout);
    assert.match(degraded.stdout, /^cluster degraded: 1\/2 nodes online/m);
    await cluster.killNode('node1');
    await waitFor(async () => (await cluster.nodeStatus('node1')) === 'offline', 30_000, 'node1 offline');
    const unavailable = await runShoal(['status', '--json'], env);
    assert.equal(unavailable.code, 4, unavailable.stdout);
    assert.equal(JSON.parse(unavailable.stdout).health.status, 'unavailable');
  });

  test('reset refuses while a gateway or node of the data directory runs, naming it; then deletes with --yes', async () => {
    cluster.startNode('node1');
    await cluster.waitForOnline(1);
    const refused = await runShoal(['reset', '--yes'], env);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, new RegExp(`^shoal: ${cluster.dataDir} is in use by the gateway \\(pid ${cluster.gateway!.pid}, ${cluster.url}\\), node node1 \\(pid ${cluster.nodes.get('node1')!.pid}\\): stop them first \\(reset stops nothing\\)\\n$`));
    assert.ok((await stat(join(cluster.dataDir, 'metadata.db'))).isFile(), 'nothing was deleted');

    await cluster.killNode('node1', 'SIGTERM');
    await cluster.kill(cluster.gateway, 'SIGTERM');
    const unconfirmed = await runShoal(['reset'], env);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /nothing deleted: not on a terminal, so pass --yes to confirm/);
    assert.ok((await stat(join(cluster.dataDir, 'metadata.db'))).isFile());

    await mkdir(join(cluster.dataDir, 'nodes', 'node1'), { recursive: true });
    await writeFile(join(cluster.dataDir, 'nodes', 'node1', 'extra'), 'x');
    const reset = await runShoal(['reset', '--yes'], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, new RegExp(`^shoal reset will delete:\\n {2}${cluster.dataDir} {2}\\(.+\\)\\n`));
    assert.match(reset.stdout, new RegExp(`^removed ${cluster.dataDir} \\(.*metadata\\.db.*nodes\\.json.*\\): .+ freed$`, 'm'));
    await assert.rejects(stat(cluster.dataDir), { code: 'ENOENT' });
    assert.match((await runShoal(['reset', '--yes'], env)).stdout, /^nothing to reset: .* does not exist$/m);
  });
});
