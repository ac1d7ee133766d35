import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sha256Hex } from '../sha256.ts';
import { randomBytesSeeded, runShoal, TestCluster, waitFor } from '../testing/cluster.ts';
import { DiskChunkStore } from './disk-chunk-store.ts';

const MiB = 1024 * 1024;
const DISK = 8 * MiB;

/** A real 8 MiB filesystem (tmpfs), so the disk fills for real; null where mounting is not allowed (not root). */
async function smallDisk(): Promise<{ dir: string; unmount(): Promise<void> } | null> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    await rm(dir, { recursive: true, force: true });
    return null;
  }
  return {
    dir,
    async unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the disk behind the node's back, as another program would, leaving `leave` bytes free. */
async function fill(dir: string, leave: number): Promise<string> {
  const filler = join(dir, 'someone-elses-file');
  await writeFile(filler, new Uint8Array(Math.max(0, available(dir) - leave)));
  return filler;
}

function available(dir: string): number {
  return Number(execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' }).trim().split('\n').at(-1));
}

describe('a node on a disk smaller than its --storage', { timeout: 120_000 }, () => {
  let disk: Awaited<ReturnType<typeof smallDisk>>;
  before(async () => {
    disk = await smallDisk();
  });
  after(async () => {
    await disk?.unmount();
  });

  test('a node that filled its disk with small chunks in packs can still delete them, and that frees the disk', async (t) => {
    if (!disk) return t.skip('mounting a tmpfs needs root');
    const dir = join(disk.dir, 'packed');
    const freeBefore = available(disk.dir);
    try {
      const store = await DiskChunkStore.open(dir, 1e9, { packBytes: 256 * 1024 });
      const held: string[] = [];
      // The room the store saw at open is not looked at again before the disk itself refuses a write.
      for (let i = 0; ; i++) {
        const chunk = randomBytesSeeded(32 * 1024, 1000 + i);
        const refused = await store.put(sha256Hex(chunk), chunk).then(
          () => null,
          (err: Error & { code?: string }) => err,
        );
        if (refused) {
          assert.equal(refused.code, 'NODE_FULL');
          break;
        }
        held.push(sha256Hex(chunk));
      }
      assert.ok(held.length > 100, `${held.length} chunks held`);
      // What the collector asks of a full node: most of what it holds is no longer needed.
      await store.delete(held.slice(1));
      await store.close();
      assert.ok(available(disk.dir) > freeBefore - 2 * 256 * 1024, `${available(disk.dir)} bytes free after deleting, ${freeBefore} before`);
      const reopened = await DiskChunkStore.open(dir, 1e9, { packBytes: 256 * 1024 });
      assert.deepEqual(await reopened.list(), [held[0]]);
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the store reports the disk\'s real room as its capacity, and full after ENOSPC until room is made', async (t) => {
    if (!disk) return t.skip('mounting a tmpfs needs root');
    const dir = join(disk.dir, 'store');
    const store = await DiskChunkStore.open(dir, 1e9);
    assert.ok(store.capacityBytes <= DISK, `capacity ${store.capacityBytes} is at most the disk's ${DISK}, not the 1 GB given`);
    const filler = await fill(disk.dir, 256 * 1024);
    const chunk = randomBytesSeeded(MiB, 1);
    // The store still believes in the room it saw at open: the write itself meets the full disk.
    await assert.rejects(store.put(sha256Hex(chunk), chunk), (err: Error & { code?: string }) => err.code === 'NODE_FULL');
    assert.ok(store.capacityBytes - (await store.stats()).usedBytes < MiB, 'no room for another chunk is claimed');
    await assert.rejects(store.put(sha256Hex(chunk), chunk), (err: Error & { code?: string }) => err.code === 'NODE_FULL');
    await rm(filler);
    await store.stats();
    assert.ok(store.capacityBytes - (await store.stats()).usedBytes > 4 * MiB, 'room made on the disk is room again');
    await store.put(sha256Hex(chunk), chunk);
    assert.deepEqual(await store.get(sha256Hex(chunk)), new Uint8Array(chunk));
    await store.close();
    await rm(dir, { recursive: true });
  });

  test('the gateway sees the node full after ENOSPC, places nothing more there, and uses it again once it has room', async (t) => {
    if (!disk) return t.skip('mounting a tmpfs needs root');
    const cluster = await TestCluster.start({ nodes: 2, storage: '256MB', gatewayArgs: ['--chunk-size', '1MiB'] });
    try {
      const env = { SHOAL_DATA: cluster.dataDir, SHOAL_GATEWAY: cluster.url };
      const created = await runShoal(['node', 'create', 'small', '--storage', '1GB', '--dir', join(disk.dir, 'small')], env);
      assert.equal(created.code, 0, created.stderr);
      cluster.startNode('small');
      await cluster.waitForOnline(3);
      const small = async () => (await cluster.client.nodes()).find((n) => n.id === 'small')!;
      assert.ok((await small()).capacityBytes <= DISK, 'the gateway is told the disk\'s room, not the 1 GB given');

      const filler = await fill(disk.dir, 512 * 1024);
      const chunksOnSmall = async () => (await readdir(join(disk!.dir, 'small'), { recursive: true })).filter((f) => !f.startsWith('manifests') && /[0-9a-f]{64}$/.test(f)).length;
      const before = await chunksOnSmall();
      // Until the node is refused a write (or looks at its disk again), the gateway counts on the room it
      // last heard of: a chunk meets the full disk, the next node in rank takes it, every upload succeeds.
      const shownFull = async () => {
        const n = await small();
        return n.capacityBytes - n.usedBytes < MiB;
      };
      for (let i = 0; i < 40 && !(await shownFull()); i++) await cluster.client.upload(`full/${i}.bin`, randomBytesSeeded(MiB, 100 + i));
      await waitFor(shownFull, 30_000, 'small shown full');
      assert.equal(await chunksOnSmall(), before, 'nothing was stored on the full disk');
      for (let i = 0; i < 6; i++) await cluster.client.upload(`after/${i}.bin`, randomBytesSeeded(MiB, 200 + i));
      assert.equal(await chunksOnSmall(), before, 'a node shown full gets no new chunks');

      await rm(filler);
      await waitFor(async () => {
        const n = await small();
        return n.capacityBytes - n.usedBytes > 4 * MiB;
      }, 30_000, 'small has room again');
      // Placement weighs nodes by capacity, so the small node is in a chunk's top two only ~5 % of the
      // time: enough tries that missing it every time is a one-in-a-billion event (the loop ends at
      // the first chunk it takes, some twenty uploads in).
      for (let i = 0; i < 400 && (await chunksOnSmall()) === before; i++) await cluster.client.upload(`again/${i}.bin`, randomBytesSeeded(MiB, 300 + i));
      assert.ok((await chunksOnSmall()) > before, 'with room again, it takes chunks again');
      for (const name of ['full/0.bin', 'after/5.bin', 'again/0.bin']) assert.equal((await cluster.client.stat(name)).size, MiB);
    } finally {
      await cluster.stop();
    }
  });
});
