import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirectWrites } from './direct-writes.ts';

/** A sealed 4 MiB chunk's size: its segments' tags make it a multiple of 512, not of 4096. */
const SEALED = 4 * 1024 * 1024 + 64 * 16;

test('DirectWrites: a chunk written directly reads back whole, owner only, and buffers are reused for the next ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'direct-writes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writes = new DirectWrites();
  // Several at once, more than the buffers it keeps, then as many again to reuse them; whether the
  // file system takes direct I/O or not (tmpfs may refuse), each file holds its chunk or is not there.
  for (const round of [0, 1]) {
    const chunks = Array.from({ length: 6 }, () => randomBytes(SEALED));
    const done = await Promise.all(chunks.map((chunk, i) => writes.write(join(dir, `c${round}-${i}`), chunk)));
    for (const [i, chunk] of chunks.entries()) {
      const path = join(dir, `c${round}-${i}`);
      if (!done[i]) {
        await assert.rejects(stat(path), { code: 'ENOENT' });
        continue;
      }
      assert.deepEqual(await readFile(path), chunk);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
    }
  }
});

test('DirectWrites: what direct I/O cannot take is left to the caller, with no file made', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'direct-writes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writes = new DirectWrites();
  assert.equal(await writes.write(join(dir, 'odd'), randomBytes(SEALED - 1)), false);
  assert.equal(await writes.write(join(dir, 'small'), randomBytes(4096)), false);
  await assert.rejects(stat(join(dir, 'odd')), { code: 'ENOENT' });
  await assert.rejects(stat(join(dir, 'small')), { code: 'ENOENT' });
});

test('DirectWrites: a file already there is an error, not overwritten', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'direct-writes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writes = new DirectWrites();
  const path = join(dir, 'taken');
  const first = randomBytes(SEALED);
  if (!(await writes.write(path, first))) return t.skip('this file system refuses direct I/O');
  await assert.rejects(writes.write(path, randomBytes(SEALED)), { code: 'EEXIST' });
  assert.deepEqual(await readFile(path), first);
});

test('DirectWrites: a burst of small chunks does not leave every later large one a buffer of its own to allocate and probe', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'direct-writes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writes = new DirectWrites();
  // As many small chunks at once as it keeps buffers: each gets one of its size.
  const small = await Promise.all([0, 1, 2, 3].map((i) => writes.write(join(dir, `small-${i}`), randomBytes(70 * 1024))));
  if (!small.every(Boolean)) return t.skip('this file system refuses direct I/O');
  // Counted, not replaced: each aligned buffer is one allocUnsafeSlow.
  let allocated = 0;
  const allocUnsafeSlow = Buffer.allocUnsafeSlow;
  Buffer.allocUnsafeSlow = (size: number) => (allocated++, allocUnsafeSlow(size));
  try {
    for (let i = 0; i < 5; i++) assert.ok(await writes.write(join(dir, `large-${i}`), randomBytes(SEALED)));
  } finally {
    Buffer.allocUnsafeSlow = allocUnsafeSlow;
  }
  assert.equal(allocated, 1, 'one buffer allocated for five large chunks one after another');
});
