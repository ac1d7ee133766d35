import assert from 'node:assert/strict';
import type { PartRecord, PartStore } from '../files/upload-parts.ts';
import type { S3Store } from './s3-store.ts';

/** What every S3Store and PartStore must do, for each implementation's test to run (SQLite now, PostgreSQL next). */
export const S3_STORE_CONTRACT: Array<{ name: string; run: (stores: { s3: S3Store; parts: PartStore }) => Promise<void> }> = [
  {
    name: 'buckets: created once, listed by name, deleted',
    async run({ s3 }) {
      assert.equal(await s3.createBucket({ name: 'zeta', createdAt: '2026-01-01T00:00:00.000Z' }), true);
      assert.equal(await s3.createBucket({ name: 'alpha', createdAt: '2026-01-02T00:00:00.000Z' }), true);
      assert.equal(await s3.createBucket({ name: 'alpha', createdAt: '2026-01-03T00:00:00.000Z' }), false);
      assert.deepEqual((await s3.listBuckets()).map((b) => b.name), ['alpha', 'zeta']);
      assert.equal((await s3.getBucket('alpha'))?.createdAt, '2026-01-02T00:00:00.000Z');
      assert.equal(await s3.deleteBucket('alpha'), true);
      assert.equal(await s3.deleteBucket('alpha'), false);
      assert.equal(await s3.getBucket('alpha'), undefined);
    },
  },
  {
    name: 'object attributes: replaced per name, read in batches, deleted',
    async run({ s3 }) {
      await s3.putAttributes({ name: 'b/k1', createdAt: 't1', etag: '"e1"', contentType: 'text/plain', metadata: { a: '1' } });
      await s3.putAttributes({ name: 'b/k1', createdAt: 't2', etag: '"e2"', contentType: null, metadata: {} });
      await s3.putAttributes({ name: 'b/k2', createdAt: 't3', etag: '"e3"', contentType: 'image/png', metadata: { 'x-y': 'z' } });
      const got = await s3.getAttributes(['b/k1', 'b/k2', 'b/none']);
      assert.deepEqual(got.get('b/k1'), { name: 'b/k1', createdAt: 't2', etag: '"e2"', contentType: null, metadata: {} });
      assert.deepEqual(got.get('b/k2')?.metadata, { 'x-y': 'z' });
      assert.equal(got.has('b/none'), false);
      assert.equal((await s3.getAttributes([])).size, 0);
      await s3.deleteAttributes('b/k1');
      assert.equal((await s3.getAttributes(['b/k1'])).size, 0);
    },
  },
  {
    name: 'access keys: created, listed, revoked once',
    async run({ s3 }) {
      await s3.createAccessKey({ id: 'K1', sealedSecret: 'sealed', name: 'one', role: 'read', createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null });
      assert.equal((await s3.getAccessKey('K1'))?.role, 'read');
      assert.equal(await s3.revokeAccessKey('K1', '2026-02-01T00:00:00.000Z'), true);
      await s3.revokeAccessKey('K1', '2026-03-01T00:00:00.000Z');
      assert.equal((await s3.getAccessKey('K1'))?.revokedAt, '2026-02-01T00:00:00.000Z');
      assert.equal(await s3.revokeAccessKey('none', '2026-02-01T00:00:00.000Z'), false);
      assert.deepEqual((await s3.listAccessKeys()).map((k) => k.id), ['K1']);
    },
  },
  {
    name: 'multipart uploads: by bucket, then key, then start',
    async run({ s3 }) {
      await s3.createMultipart({ id: 'u2', bucket: 'b', key: 'y', createdAt: 't1', contentType: null, metadata: {} });
      await s3.createMultipart({ id: 'u1', bucket: 'b', key: 'x', createdAt: 't2', contentType: 'text/plain', metadata: { m: 'v' } });
      await s3.createMultipart({ id: 'u3', bucket: 'c', key: 'x', createdAt: 't1', contentType: null, metadata: {} });
      assert.deepEqual((await s3.listMultiparts('b')).map((u) => u.id), ['u1', 'u2']);
      assert.deepEqual((await s3.getMultipart('u1'))?.metadata, { m: 'v' });
      await s3.deleteMultipart('u1');
      assert.equal(await s3.getMultipart('u1'), undefined);
    },
  },
  {
    name: 'parts: a number replaced answers the old part; a session deleted answers its parts',
    async run({ parts }) {
      const part = (number: number, digest: string): PartRecord => ({
        number,
        size: 10 * number,
        digest,
        chunks: [{ hash: 'a'.repeat(64), size: 10 * number, key: 'k'.repeat(64) }],
        records: [{ hash: 'a'.repeat(64), size: 10 * number + 28, nodeIds: ['n1', 'n2'] }],
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      await parts.createSession('s1', '2026-01-01T00:00:00.000Z');
      await parts.createSession('s2', '2026-01-02T00:00:00.000Z');
      assert.deepEqual(await parts.getSession('s1'), { id: 's1', createdAt: '2026-01-01T00:00:00.000Z' });
      assert.equal(await parts.putPart('s1', part(2, 'two')), undefined);
      assert.equal(await parts.putPart('s1', part(1, 'one')), undefined);
      assert.deepEqual(await parts.putPart('s1', part(2, 'two again')), part(2, 'two'));
      assert.deepEqual(await parts.listParts('s1'), [part(1, 'one'), part(2, 'two again')]);
      assert.deepEqual((await parts.listSessions()).map((s) => s.id), ['s1', 's2']);
      assert.deepEqual((await parts.deleteSession('s1')).map((p) => p.digest), ['one', 'two again']);
      assert.equal(await parts.getSession('s1'), undefined);
      assert.deepEqual(await parts.listParts('s1'), []);
    },
  },
  {
    name: 'parts: a resumable session keeps its name, length and expiry, which moves; an S3 one has none to move',
    async run({ parts }) {
      const resumable = { name: 'docs/big.bin', length: 5_000_000_000, expiresAt: '2026-01-02T00:00:00.000Z' };
      await parts.createSession('r1', '2026-01-01T00:00:00.000Z', resumable);
      await parts.createSession('s1', '2026-01-01T00:00:00.000Z');
      assert.deepEqual(await parts.getSession('r1'), { id: 'r1', createdAt: '2026-01-01T00:00:00.000Z', resumable });
      await parts.setExpiry('r1', '2026-01-03T00:00:00.000Z');
      await parts.setExpiry('s1', '2026-01-03T00:00:00.000Z');
      assert.deepEqual((await parts.listSessions()).filter((s) => s.id !== 's2'), [
        { id: 'r1', createdAt: '2026-01-01T00:00:00.000Z', resumable: { ...resumable, expiresAt: '2026-01-03T00:00:00.000Z' } },
        { id: 's1', createdAt: '2026-01-01T00:00:00.000Z' },
      ]);
    },
  },
];
