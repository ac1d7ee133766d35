import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShoalClient } from '../../shared/api-client.ts';
import { sha256Hex } from '../sha256.ts';
import { randomBytesSeeded, runShoal, SHOAL_BIN, TestCluster, waitFor } from '../testing/cluster.ts';
import { stopChild } from '../cli/processes.ts';

/** A gateway process on a given data directory and port; resolves once it listens or exits. */
function gatewayOn(dataDir: string, port: number, extra: string[] = []) {
  const child = spawn(process.execPath, [SHOAL_BIN, 'gateway', '--port', String(port), '--data', dataDir, '--gc-grace', '1s', ...extra], {
    env: { ...process.env, CI: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { child, output: () => ({ stdout, stderr }) };
}

test('a gateway on an empty data directory deletes nothing of the cluster whose nodes knock, and a second gateway on a directory in use is refused', async () => {
  const cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--gc-grace', '1s'] });
  const empty = await mkdtemp(join(tmpdir(), 'shoal-empty-'));
  try {
    const files = new Map<string, string>();
    for (let i = 0; i < 4; i++) {
      const data = randomBytesSeeded(5 * 1024 * 1024 + i, 40 + i);
      await cluster.client.upload(`f${i}.bin`, data);
      files.set(`f${i}.bin`, sha256Hex(data));
    }
    const before = await cluster.copiesOnDisk(['node1', 'node2', 'node3']);
    const port = Number(new URL(cluster.url).port);

    const second = await runShoal(['gateway', '--port', '0', '--data', cluster.dataDir]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`in use by the gateway with pid ${cluster.gateway!.pid} at ${cluster.url.replace(/\./g, '\\.')}`));

    // The operator slips: the gateway comes back on the same port with an empty --data. It warns,
    // refuses the other cluster's nodes, and deletes none of their chunks.
    await cluster.kill(cluster.gateway, 'SIGTERM');
    const wrong = gatewayOn(empty, port);
    await waitFor(() => /warning: node node\d of cluster [0-9a-f-]{36} knocked, but .* held no cluster .*shoal recover/.test(wrong.output().stderr), 15_000, 'the warning');
    const wrongClient = new ShoalClient(`http://127.0.0.1:${port}`, { token: (await readFile(join(empty, 'admin-token'), 'utf8')).trim() });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(await wrongClient.nodes(), [], 'no node of the other cluster joined');
    assert.deepEqual(await cluster.copiesOnDisk(['node1', 'node2', 'node3']), before, 'every chunk file is still there');
    await stopChild(wrong.child);

    // Told to start afresh, it says nothing of it.
    const fresh = gatewayOn(empty, port, ['--new-cluster']);
    await waitFor(async () => (await wrongClient.health().catch(() => null)) !== null, 30_000, 'the fresh gateway');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.doesNotMatch(fresh.output().stderr, /warning/);
    await stopChild(fresh.child);

    await cluster.startGateway();
    await cluster.waitForOnline(3, 40_000);
    for (const [name, digest] of files) {
      assert.equal(sha256Hex(new Uint8Array(await (await cluster.client.download(name)).arrayBuffer())), digest, name);
    }
  } finally {
    await cluster.stop();
    await rm(empty, { recursive: true, force: true });
  }
});
