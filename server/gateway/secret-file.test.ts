import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadJoinSecret } from './nodes/join-secret.ts';

test('a join secret is made once, owner-only, and an empty or damaged one is refused rather than admitting anyone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-secret-'));
  try {
    const secret = loadJoinSecret(dir);
    assert.match(secret, /^join_[A-Za-z0-9_-]{43}$/);
    assert.equal(loadJoinSecret(dir), secret, 'the same secret on every start');
    assert.equal((await stat(join(dir, 'join-secret'))).mode & 0o777, 0o600);
    for (const damaged of ['', '\n', 'join_', 'join_short']) {
      await writeFile(join(dir, 'join-secret'), damaged);
      assert.throws(() => loadJoinSecret(dir), /does not hold a secret/, JSON.stringify(damaged));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
