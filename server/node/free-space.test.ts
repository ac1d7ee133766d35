import assert from 'node:assert/strict';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FreeSpace } from './free-space.ts';

const GiB = 1024 ** 3;

async function freeOn(dir: string): Promise<number> {
  const { bavail, bsize } = await statfs(dir);
  return bavail * bsize;
}

test('an estimate that comes near what is needed is checked against the disk, which says the room is there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-free-space-'));
  try {
    const space = new FreeSpace(dir, 1024 * 1024);
    const disk = await space.before(0, 0);
    // Appends the disk never saw (written elsewhere and deleted, say) must not make the node refuse puts.
    space.spent(disk);
    const again = await space.before(4096, 1024 * 1024);
    assert.ok(again > 4096 + 1024 * 1024, `${again} bytes free by the disk's own count`);
    assert.ok(Math.abs(again - (await freeOn(dir))) < GiB);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('after the disk refused a write, the next check asks the disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-free-space-'));
  try {
    const space = new FreeSpace(dir, 0);
    const disk = await space.before(0, 0);
    space.spent(disk / 2);
    space.forget();
    const again = await space.before(0, 0);
    assert.ok(Math.abs(again - (await freeOn(dir))) < GiB, `${again} bytes: the disk's count, not the estimate's ${disk / 2}`);
  } finally {
    await rm(dir, { recursive: true });
  }
});
