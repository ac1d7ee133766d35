import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readAt, readWhole } from './whole-file.ts';

/** A temp directory removed when the test ends. */
async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-whole-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('readWhole gives back a file larger than one of Node’s 512 KiB pieces as a plain Uint8Array', async (t) => {
  const dir = await tempDir(t);
  const data = randomBytes(5 * 1024 * 1024 + 17);
  await writeFile(join(dir, 'chunk'), data);
  const read = await readWhole(join(dir, 'chunk'));
  assert.equal(Object.getPrototypeOf(read), Uint8Array.prototype);
  assert.deepEqual(Buffer.from(read), data);
});

test('readAt clips at the end of the file, readWhole reads an empty file, and a missing one fails with ENOENT', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'ten'), Buffer.from('0123456789'));
  await writeFile(join(dir, 'empty'), Buffer.alloc(0));
  const file = await open(join(dir, 'ten'), 'r');
  try {
    assert.equal(Buffer.from(await readAt(file, 4, 3)).toString(), '3456');
    assert.equal(Buffer.from(await readAt(file, 100, 7)).toString(), '789');
    assert.equal((await readAt(file, 5, 20)).length, 0);
  } finally {
    await file.close();
  }
  assert.equal((await readWhole(join(dir, 'empty'))).length, 0);
  await assert.rejects(readWhole(join(dir, 'missing')), { code: 'ENOENT' });
});
