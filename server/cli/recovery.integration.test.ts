import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { SqliteMetadataStore } from '../gateway/metadata/sqlite-metadata-store.ts';
import { sha256Hex } from '../sha256.ts';
import { assertAllIntact, randomBytesSeeded, runShoal, SHOAL_BIN, TestCluster, uploadSet, waitFor } from '../testing/cluster.ts';

const MiB = 1024 * 1024;

/** The gateway's port: recovery listens there, so the nodes reconnecting to the gateway find it. */
function portOf(cluster: TestCluster): string {
  return new URL(cluster.url).port;
}

/** Runs `shoal gateway` and says how it exited, or fails the test if it is still running after `ms` (then stops it). */
async function gatewayExit(cluster: TestCluster, ms: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [SHOAL_BIN, 'gateway', '--data', cluster.dataDir, '--port', portOf(cluster)], { env: { ...process.env, CI: '1' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const code = await Promise.race([exited, sleep(ms).then(() => 'running' as const)]);
  if (code === 'running') {
    child.kill('SIGKILL');
    await exited;
    assert.fail(`the gateway started on metadata that must be recovered first: ${stderr}`);
  }
  return { code, stderr };
}

async function recover(cluster: TestCluster, ...extra: string[]): Promise<string> {
  const result = await runShoal(['recover', '--data', cluster.dataDir, '--port', portOf(cluster), '--wait', '30s', ...extra]);
  assert.equal(result.code, 0, `shoal recover failed: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Back from recovery: every copy of every chunk was read back and recorded, so there is nothing to repair. */
async function assertServedAsBefore(cluster: TestCluster, files: Map<string, string>): Promise<void> {
  await cluster.startGateway();
  await cluster.waitForOnline(3, 40_000);
  assert.deepEqual((await cluster.client.list()).map((f) => f.name).sort(), [...files.keys()].sort());
  const health = await cluster.client.health();
  assert.equal(health.underReplicatedChunks, 0, JSON.stringify(health));
  await assertAllIntact(cluster, files);
  // Past the grace period, nothing recovered is collected as unneeded.
  await sleep(3000);
  await assertAllIntact(cluster, files);
  const after = await cluster.client.health();
  assert.equal(after.repair.done, 0, `no copy had to be made again: ${JSON.stringify(after)}`);
}

test('a gateway whose metadata.db is deleted while stopped comes back through shoal recover with every file intact', async () => {
  const cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--gc-grace', '1s'] });
  try {
    const files = await uploadSet(cluster, 4, 5 * MiB, 71);
    await cluster.client.upload('empty', new Uint8Array(0));
    files.set('empty', sha256Hex(new Uint8Array(0)));
    const second = randomBytesSeeded(MiB, 73);
    await cluster.client.upload('overwritten.bin', randomBytesSeeded(MiB, 72));
    await cluster.client.upload('overwritten.bin', second);
    files.set('overwritten.bin', sha256Hex(second));
    await cluster.client.upload('deleted.bin', randomBytesSeeded(MiB, 74));
    await cluster.client.delete('deleted.bin');

    // One file as a release before manifests stored it: the gateway gives it one once nodes are back.
    await cluster.kill(cluster.gateway, 'SIGTERM');
    const db = new Database(join(cluster.dataDir, 'metadata.db'));
    const legacy = db.prepare("UPDATE files SET manifest = NULL, version = 0 WHERE name = 'set-71/file-0.bin'").run();
    assert.equal(legacy.changes, 1);
    db.close();
    await cluster.startGateway();
    await waitFor(() => {
      const check = new Database(join(cluster.dataDir, 'metadata.db'), { readonly: true });
      try {
        return check.prepare("SELECT manifest FROM files WHERE name = 'set-71/file-0.bin'").pluck().get() !== null;
      } finally {
        check.close();
      }
    }, 30_000, 'the old file to be given a manifest');

    await cluster.kill(cluster.gateway, 'SIGTERM');
    for (const suffix of ['', '-wal', '-shm']) await rm(join(cluster.dataDir, `metadata.db${suffix}`), { force: true });
    const refused = await gatewayExit(cluster, 10_000);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /metadata\.db was missing\): run shoal recover/);

    const report = await recover(cluster);
    assert.match(report, /6 file versions and 1 deletion from \d+ manifests on 3 nodes/);
    await assertServedAsBefore(cluster, files);
  } finally {
    await cluster.stop();
  }
});

test('an older metadata copy restored loses none of the later files, and what was deleted since stays deleted', async () => {
  const cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--gc-grace', '1s'] });
  try {
    const files = await uploadSet(cluster, 3, MiB, 81);
    const backup = join(cluster.dataDir, 'backup.db');
    const taken = await runShoal(['backup', backup, '--data', cluster.dataDir]);
    assert.equal(taken.code, 0, taken.stderr);
    const copy = SqliteMetadataStore.open(backup);
    assert.match((await copy.recoveryNeeded()) ?? '', /a backup taken at/, 'a backup says it must be recovered once restored');
    await copy.close();

    // After the backup: new files, and files of both kinds overwritten and deleted.
    for (const [name, digest] of await uploadSet(cluster, 3, 2 * MiB, 91)) files.set(name, digest);
    const overwritten = randomBytesSeeded(5 * MiB, 99);
    await cluster.client.upload('set-81/file-0.bin', overwritten);
    files.set('set-81/file-0.bin', sha256Hex(overwritten));
    for (const name of ['set-81/file-1.bin', 'set-91/file-2.bin']) {
      await cluster.client.delete(name);
      files.delete(name);
    }
    await cluster.kill(cluster.gateway, 'SIGTERM');

    const report = await recover(cluster, '--from', backup);
    assert.match(report, /3 file versions and 2 deletions/);
    await assertServedAsBefore(cluster, files);
  } finally {
    await cluster.stop();
  }
});
