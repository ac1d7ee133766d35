import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_KEY_FILE, DATA_KEY_PREFIX } from '../gateway/files/chunk-cipher.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX } from '../gateway/metadata/manifest.ts';
import { loadSecret } from '../gateway/secret-file.ts';
import { runShoal } from '../testing/cluster.ts';

test('shoal key export writes the keys out, and key import puts them in another data directory, never over different ones', async () => {
  const work = await mkdtemp(join(tmpdir(), 'shoal-keys-'));
  try {
    const [source, target, other] = ['source', 'target', 'other'].map((name) => join(work, name)) as [string, string, string];
    const none = await runShoal(['key', 'export', '--data', source]);
    assert.notEqual(none.code, 0, 'no keys to export yet');
    assert.match(none.stderr, /has no data-key/);

    const dataKey = loadSecret(source, DATA_KEY_FILE, DATA_KEY_PREFIX);
    const manifestKey = loadSecret(source, MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX);
    const file = join(work, 'keys.txt');
    const exported = await runShoal(['key', 'export', file, '--data', source]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'the export is its owner\'s only');

    const imported = await runShoal(['key', 'import', file, '--data', target]);
    assert.equal(imported.code, 0, imported.stderr);
    for (const [name, secret] of [[DATA_KEY_FILE, dataKey], [MANIFEST_KEY_FILE, manifestKey]] as const) {
      assert.equal((await readFile(join(target, name), 'utf8')).trim(), secret, name);
      assert.equal((await stat(join(target, name))).mode & 0o777, 0o600, name);
    }

    const different = loadSecret(other, DATA_KEY_FILE, DATA_KEY_PREFIX);
    const refused = await runShoal(['key', 'import', file, '--data', other]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /holds another secret/);
    assert.equal((await readFile(join(other, DATA_KEY_FILE), 'utf8')).trim(), different, 'the key there is kept');
    const replaced = await runShoal(['key', 'import', file, '--data', other, '--replace']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal((await readFile(join(other, DATA_KEY_FILE), 'utf8')).trim(), dataKey);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
