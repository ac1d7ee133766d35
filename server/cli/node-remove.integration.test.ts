import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runShoal, SHOAL_BIN, TestCluster, waitFor } from '../testing/cluster.ts';

test('node remove stops only that node when one process runs several', async () => {
  const cluster = await TestCluster.start({ nodes: 0 });
  const env = { SHOAL_DATA: cluster.dataDir, SHOAL_GATEWAY: cluster.url };
  try {
    for (const id of ['n1', 'n2', 'n3']) assert.equal((await runShoal(['node', 'create', id, '--storage', '256MB'], env)).code, 0);
    const runner = spawn(process.execPath, [SHOAL_BIN, 'node', 'start', 'n1', 'n2', 'n3', '--data', cluster.dataDir], {
      env: { ...process.env, CI: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => runner.on('exit', (code) => resolve(code)));
    await cluster.waitForOnline(3);

    const removed = await runShoal(['node', 'remove', 'n3'], env);
    assert.equal(removed.code, 0, removed.stderr);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const nodes = await cluster.client.nodes();
    assert.deepEqual(nodes.map((n) => [n.id, n.status]), [['n1', 'online'], ['n2', 'online']]);
    assert.equal(runner.exitCode, null, 'the process still runs n1 and n2');
    const listed = JSON.parse(await readFile(join(cluster.dataDir, 'nodes.json'), 'utf8')) as { nodes: Array<{ id: string }> };
    assert.deepEqual(listed.nodes.map((n) => n.id), ['n1', 'n2']);

    for (const id of ['n1', 'n2']) assert.equal((await runShoal(['node', 'remove', id], env)).code, 0);
    assert.equal(await exited, 0, 'with no node left to run, the process ends');
    await waitFor(async () => (await cluster.client.nodes()).length === 0, 30_000, 'no nodes left');
  } finally {
    await cluster.stop();
  }
});
