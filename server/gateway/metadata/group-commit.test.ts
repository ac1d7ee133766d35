import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from './group-commit.ts';
import type { FileRecord } from './metadata-store.ts';
import { SqliteMetadataStore } from './sqlite-metadata-store.ts';

test('calls that arrive together run as one batch, and one that fails fails alone', async () => {
  const batches: number[][] = [];
  const group = new GroupCommit<number, number>((items) => {
    batches.push(items);
    return items.map((n) => (n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 2 }));
  });
  const results = await Promise.allSettled([1, -2, 3].map((n) => group.submit(n)));
  assert.deepEqual(batches, [[1, -2, 3]]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [2, 'bad -2', 6],
  );
  assert.equal(await group.submit(5), 10);
  assert.deepEqual(batches.at(-1), [5], 'a later call is a batch of its own');
});

test('no call resolves before its batch is durable, and calls that come meanwhile make the next batch', async () => {
  const batches: number[][] = [];
  let syncs = 0;
  let release!: () => void;
  const group = new GroupCommit<number, number>(
    (items) => {
      batches.push(items);
      return items.map((n) => ({ ok: true, value: n }));
    },
    () => {
      syncs++;
      return new Promise<void>((resolve) => (release = resolve));
    },
  );
  let settled = false;
  const first = group.submit(1).then((n) => ((settled = true), n));
  await new Promise((resolve) => setImmediate(resolve));
  const later = [group.submit(2), group.submit(3)];
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(settled, false, 'resolved before the fsync');
  assert.deepEqual(batches, [[1]]);
  release();
  assert.equal(await first, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(batches, [[1], [2, 3]]);
  release();
  assert.deepEqual(await Promise.all(later), [2, 3]);
  assert.equal(syncs, 2);
});

test('a failed fsync fails every call of its batch, even those whose transaction went through', async () => {
  const group = new GroupCommit<number, number>(
    (items) => items.map((n) => ({ ok: true, value: n })),
    async () => {
      throw new Error('EIO');
    },
  );
  const results = await Promise.allSettled([1, 2].map((n) => group.submit(n)));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
});

test('a batch that throws as a whole fails every call in it', async () => {
  const group = new GroupCommit<number, number>(() => {
    throw new Error('disk I/O error');
  });
  const results = await Promise.allSettled([1, 2].map((n) => group.submit(n)));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
});

test('SqliteMetadataStore: concurrent commits share a transaction, and one that breaks a constraint leaves the others committed', async () => {
  const store = SqliteMetadataStore.open(':memory:');
  try {
    const file = (name: string, hash: string): FileRecord => ({
      name, size: 10, sha256: '0'.repeat(64), chunkSize: 10, chunks: [{ hash, size: 10 }], replicas: 1, createdAt: '2025-01-01T00:00:00.000Z',
    });
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];
    const results = await Promise.allSettled([
      store.commitFile(file('one', a), [{ hash: a, size: 10, nodeIds: ['n1'] }]),
      // No record of chunk b: its file row may not reference it.
      store.commitFile(file('two', b), []),
      store.commitFile(file('three', c), [{ hash: c, size: 10, nodeIds: ['n1'] }]),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual((await store.listFiles()).map((f) => f.name).sort(), ['one', 'three']);
    assert.deepEqual(await store.chunksOnNode('n1'), [a, c]);
  } finally {
    await store.close();
  }
});
