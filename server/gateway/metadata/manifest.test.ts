import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hmacSha256Hex } from '../../sha256.ts';
import { ManifestSeal, maxChunksPerFile, type Manifest } from './manifest.ts';

const KEY = 'manifest_the-key-of-this-cluster';
const file: Manifest = {
  type: 'file',
  version: 1_750_000_000_000_001,
  file: { name: 'docs/"quoted" ünïcode.txt', size: 10, sha256: 'f'.repeat(64), chunkSize: 4, chunks: [{ hash: 'a'.repeat(64), size: 4, key: '1'.repeat(64) }, { hash: 'b'.repeat(64), size: 4 }, { hash: 'a'.repeat(64), size: 2, key: '1'.repeat(64) }], replicas: 2, createdAt: '2025-06-01T00:00:00.000Z' },
};
const deletion: Manifest = { type: 'deletion', version: 1_750_000_000_000_002, name: 'docs/x', deletedAt: '2025-06-02T00:00:00.000Z' };

test('a manifest reads back as written, files and deletions alike', () => {
  const seal = new ManifestSeal(KEY);
  assert.deepEqual(seal.decode(seal.encode(file)), file);
  assert.deepEqual(seal.decode(seal.encode(deletion)), deletion);
});

test('a composed file, its chunks of different sizes and its whole digest unknown, reads back as written', () => {
  const seal = new ManifestSeal(KEY);
  const composed: Manifest = { ...file, file: { ...file.file, sha256: null } } as Manifest;
  assert.deepEqual(seal.decode(seal.encode(composed)), composed);
});

test('a manifest of format 1, as the previous release sealed it, still reads: plaintext chunks of chunkSize', () => {
  const body = {
    shoal: 1, type: 'file', name: 'old.bin', version: 5, size: 10, sha256: 'f'.repeat(64), chunkSize: 4, replicas: 2,
    createdAt: '2025-06-01T00:00:00.000Z', chunks: ['a'.repeat(64), 'b'.repeat(64), 'a'.repeat(64)],
  };
  const bytes = new TextEncoder().encode(JSON.stringify({ ...body, seal: hmacSha256Hex(KEY, JSON.stringify(body)) }));
  const { shoal: _format, type: _type, version: _version, chunks, ...fields } = body;
  assert.deepEqual(new ManifestSeal(KEY).decode(bytes), {
    type: 'file',
    version: 5,
    file: { ...fields, chunks: [{ hash: 'a'.repeat(64), size: 4 }, { hash: 'b'.repeat(64), size: 4 }, { hash: 'a'.repeat(64), size: 2 }] },
  });
});

test('a manifest not sealed with the cluster\'s key, or changed since, is no manifest', () => {
  const seal = new ManifestSeal(KEY);
  const bytes = seal.encode(file);
  assert.equal(new ManifestSeal('manifest_another-cluster').decode(bytes), null, 'another key');
  const text = new TextDecoder().decode(bytes);
  const tampered = (from: string, to: string) => seal.decode(new TextEncoder().encode(text.replace(from, to)));
  assert.equal(tampered('"size":10', '"size":11'), null, 'a field changed');
  assert.equal(tampered(`"name":"docs`, `"deleted":true,"name":"docs`), null, 'a field added');
  // A forger who knows the format but not the key: a well-formed body with a made-up seal.
  const forged = JSON.stringify({ shoal: 1, type: 'deletion', name: 'docs/x', version: 9e15, deletedAt: 'now', seal: '0'.repeat(64) });
  assert.equal(seal.decode(new TextEncoder().encode(forged)), null, 'a made-up seal');
  for (const junk of ['', 'null', '[]', '{"seal":1}', '\u00ff']) assert.equal(seal.decode(new TextEncoder().encode(junk)), null, JSON.stringify(junk));
});

test('a sealed manifest of the wrong shape is refused too: its chunk list must match its size', () => {
  const seal = new ManifestSeal(KEY);
  const short = { ...file, file: { ...file.file, size: 13 } } as Manifest;
  assert.equal(seal.decode(seal.encode(short)), null);
});

test('a file\'s manifest fits in one chunk: the most chunks a file may have at a chunk size', () => {
  const seal = new ManifestSeal(KEY);
  for (const chunkSize of [64 * 1024, 4 * 1024 * 1024]) {
    const count = maxChunksPerFile(chunkSize);
    const name = `"${'\u00e9'.repeat(511)}`;
    const largest: Manifest = {
      type: 'file',
      version: Number.MAX_SAFE_INTEGER,
      file: { name, size: count * chunkSize, sha256: 'f'.repeat(64), chunkSize, chunks: Array.from({ length: count }, () => ({ hash: 'c'.repeat(64), size: chunkSize, key: 'd'.repeat(64) })), replicas: 2, createdAt: new Date().toISOString() },
    };
    assert.ok(seal.encode(largest).length <= chunkSize, `${count} chunks of ${chunkSize} bytes`);
  }
  assert.equal(maxChunksPerFile(4 * 1024 * 1024), 28_897);
});
