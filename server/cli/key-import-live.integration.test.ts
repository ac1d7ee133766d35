import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_KEY_FILE, DATA_KEY_PREFIX } from '../gateway/files/chunk-cipher.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX } from '../gateway/metadata/manifest.ts';
import { loadSecret } from '../gateway/secret-file.ts';
import { startGateway } from '../gateway/start-gateway.ts';
import { runShoal } from '../testing/cluster.ts';

test('shoal key import --replace is refused while a gateway runs on the data directory', async () => {
  const work = await mkdtemp(join(tmpdir(), 'shoal-key-live-'));
  try {
    const [other, live] = [join(work, 'other'), join(work, 'live')];
    loadSecret(other, DATA_KEY_FILE, DATA_KEY_PREFIX);
    loadSecret(other, MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX);
    const file = join(work, 'keys.txt');
    assert.equal((await runShoal(['key', 'export', file, '--data', other])).code, 0);

    const gateway = await startGateway({ port: 0, dataDir: live });
    try {
      const before = await readFile(join(live, DATA_KEY_FILE), 'utf8');
      const refused = await runShoal(['key', 'import', file, '--data', live, '--replace']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /is using .*stop it before importing keys/);
      assert.equal(await readFile(join(live, DATA_KEY_FILE), 'utf8'), before, 'the running gateway\'s key is kept');
    } finally {
      await gateway.close();
    }
    const replaced = await runShoal(['key', 'import', file, '--data', live, '--replace']);
    assert.equal(replaced.code, 0, replaced.stderr);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
