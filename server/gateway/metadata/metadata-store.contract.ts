import assert from 'node:assert/strict';
import type { ContractCase } from '../../../shared/chunk-store.contract.ts';
import type { ChunkKind } from '../../../shared/chunk-store.ts';
import type { ChunkCursor, ChunkSelection, DeletionRecord, FileChunk, FileRecord, InviteRecord, ManifestRecord, MetadataStore, NodeRecord, RecordedChunk } from './metadata-store.ts';
import { StaleVersionError } from './name-version.ts';

/**
 * The behaviour every MetadataStore must show, as plain async cases so that any test runner (and a
 * later PostgreSQL store) can run them. Orders the interface leaves open (listings, node ids of a
 * chunk) are compared sorted.
 */
export interface MetadataStoreHarness {
  store: MetadataStore;
  /** Opens the same database afresh, as after a gateway restart; absent for stores that forget. */
  reopen?: () => Promise<MetadataStore>;
  cleanup: () => Promise<void>;
}

export type MetadataStoreFactory = () => Promise<MetadataStoreHarness>;

export function metadataStoreContract(factory: MetadataStoreFactory): ContractCase[] {
  const withStore = (name: string, body: (h: MetadataStoreHarness) => Promise<void>): ContractCase => ({
    name,
    run: async () => {
      const harness = await factory();
      try {
        await body(harness);
      } finally {
        await harness.store.close();
        await harness.cleanup();
      }
    },
  });

  return [
    withStore('a committed file reads back as written, chunk order and repeats kept', async ({ store }) => {
      const f = file('docs/a.txt', [A, B, A, C]);
      assert.deepEqual(await store.commitFile(f, on(['n1'], A, B, C)), { unreferenced: [] });
      assert.deepEqual(await store.getFile('docs/a.txt'), f);
      assert.equal(await store.getFile('docs/b.txt'), undefined);
    }),

    withStore('chunks of different sizes keep their sizes and keys, and an unknown whole digest stays unknown', async ({ store }) => {
      const composed = file('parts', [{ hash: A, size: 7, key: '5'.repeat(64) }, { hash: B, size: CHUNK_SIZE }, { hash: A, size: 7, key: '5'.repeat(64) }, { hash: C, size: 1, key: '6'.repeat(64) }], {
        sha256: null,
      });
      await store.commitFile(composed, on(['n1'], A, B, C));
      assert.deepEqual(await store.getFile('parts'), composed);
      assert.deepEqual(await store.listFiles(), [composed]);
    }),

    withStore('listFiles returns every file', async ({ store }) => {
      const x = file('x', [A]);
      const y = file('y', [A, B]);
      await store.commitFile(y, on(['n1'], A, B));
      await store.commitFile(x, on(['n1'], A));
      assert.deepEqual(byName(await store.listFiles()), [x, y]);
    }),

    withStore('an empty file has no chunks and is still a file', async ({ store }) => {
      const empty = file('empty', [], { size: 0 });
      assert.deepEqual(await store.commitFile(empty, []), { unreferenced: [] });
      assert.deepEqual(await store.getFile('empty'), empty);
      assert.deepEqual(await store.listFiles(), [empty]);
      assert.deepEqual(await store.deleteFile('empty'), { file: empty, unreferenced: [] });
    }),

    withStore('largestChunkSize is the largest chunk size of the files stored now, 0 without files', async ({ store }) => {
      assert.equal(await store.largestChunkSize(), 0);
      await store.commitFile(file('small', [A]), on(['n1'], A));
      await store.commitFile(file('large', [B], { chunkSize: 64 * CHUNK_SIZE }), on(['n1'], B));
      assert.equal(await store.largestChunkSize(), 64 * CHUNK_SIZE);
      await store.deleteFile('large');
      assert.equal(await store.largestChunkSize(), CHUNK_SIZE);
    }),

    withStore('replacing a file orphans only the hashes no file uses any more', async ({ store }) => {
      await store.commitFile(file('x', [A, B, C, A]), on(['n1'], A, B, C));
      await store.commitFile(file('y', [C]), on(['n1'], C));
      const replacement = file('x', [B, D], { sha256: 'f'.repeat(64) });
      const { unreferenced } = await store.commitFile(replacement, on(['n2'], B, D));
      assert.deepEqual(unreferenced, [A]);
      assert.deepEqual(await store.getFile('x'), replacement);
      assert.ok((await store.getChunks([A])).has(A), 'commitFile leaves unreferenced rows for forgetUnreferenced');
      assert.deepEqual(await store.commitFile(replacement, on(['n2'], B, D)), { unreferenced: [] }, 'same version again');
    }),

    withStore('deleteFile returns the file and the hashes no file uses any more', async ({ store }) => {
      const x = file('x', [A, B, A]);
      await store.commitFile(x, on(['n1'], A, B));
      await store.commitFile(file('y', [B]), on(['n1'], B));
      assert.deepEqual(await store.deleteFile('x'), { file: x, unreferenced: [A] });
      assert.equal(await store.getFile('x'), undefined);
      assert.equal(await store.deleteFile('x'), undefined);
      assert.equal(await store.deleteFile('never'), undefined);
      assert.ok((await store.getChunks([A])).has(A), 'deleteFile leaves unreferenced rows for forgetUnreferenced');
      assert.deepEqual((await store.deleteFile('y'))?.unreferenced, [B]);
    }),

    withStore('chunk records follow commits and replica changes', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), [chunk(A, ['n1', 'n2']), chunk(B, ['n2'])]);
      await store.commitFile(file('y', [B]), [chunk(B, ['n2', 'n3'])]);

      const found = await store.getChunks([A, B, D]);
      assert.deepEqual([...found.keys()].sort(), [A, B]);
      assert.deepEqual(sorted(found.get(A)!), chunk(A, ['n1', 'n2']));
      assert.deepEqual(sorted(found.get(B)!), chunk(B, ['n2', 'n3']), 'replicas of a known chunk accumulate');
      assert.equal((await store.getChunks([])).size, 0);
      assert.deepEqual((await store.listChunks()).map(sorted).sort(byHash), [chunk(A, ['n1', 'n2']), chunk(B, ['n2', 'n3'])]);
      assert.deepEqual((await store.chunksOnNode('n2')).sort(), [A, B]);
      assert.deepEqual(await store.chunksOnNode('nobody'), []);

      await store.addReplica(A, 'n3');
      await store.addReplica(A, 'n3');
      await store.removeReplica(A, 'n1');
      await store.removeReplica(A, 'nobody');
      assert.deepEqual(sorted((await store.getChunks([A])).get(A)!), chunk(A, ['n2', 'n3']));
      assert.deepEqual((await store.chunksOnNode('n3')).sort(), [A, B]);
      assert.deepEqual(await store.chunksOnNode('n1'), []);

      // A replica of a chunk the store has never recorded has nothing to attach to.
      await store.addReplica(D, 'n1');
      assert.equal((await store.getChunks([D])).size, 0);
    }),

    withStore('listChunks leaves out chunks no file references', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), on(['n1'], A, B));
      await store.commitFile(file('x', [B]), on(['n1'], B));
      assert.deepEqual((await store.listChunks()).map((c) => c.hash), [B]);
    }),

    withStore('referenced names the hashes some file uses, whether or not a chunk row lingers', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), on(['n1'], A, B));
      await store.commitFile(file('y', [B]), on(['n1'], B));
      await store.deleteFile('x');
      assert.deepEqual([...(await store.referenced([A, B, D]))], [B]);
      assert.equal((await store.referenced([])).size, 0);
    }),

    withStore('reconcileNode drops the node\'s rows of the copies named missing and never adds one', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), on(['n1', 'n2'], A, B));
      await store.commitFile(file('y', [C]), on(['n2'], C));
      await store.reconcileNode('n1', [A, C, D, D]);
      assert.deepEqual(await store.chunksOnNode('n1'), [B], 'only the rows named go; naming copies never recorded adds none');
      assert.deepEqual((await store.getChunks([A])).get(A)?.nodeIds, ['n2'], 'other nodes keep theirs');
      assert.deepEqual((await store.getChunks([C])).get(C)?.nodeIds, ['n2']);
      await store.reconcileNode('n1', []);
      assert.deepEqual(await store.chunksOnNode('n1'), [B]);
    }),

    withStore('forgetUnreferenced drops only hashes no file references', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), on(['n1'], A, B));
      await store.commitFile(file('y', [B, C]), on(['n1', 'n2'], B, C));
      const { unreferenced } = (await store.deleteFile('x'))!;
      assert.deepEqual(unreferenced, [A]);
      assert.deepEqual((await store.forgetUnreferenced([A, B, C, D, A])).sort(), [A]);
      assert.deepEqual([...(await store.getChunks([A, B, C])).keys()].sort(), [B, C]);
      assert.deepEqual((await store.chunksOnNode('n1')).sort(), [B, C]);
      assert.deepEqual(await store.forgetUnreferenced([A]), [], 'already forgotten');
    }),

    withStore('nodes are upserted, read, listed and removed with their replicas', async ({ store }) => {
      const n1 = node('n1');
      const n2 = node('n2', { kind: 'browser', cpu: null, draining: true });
      await store.upsertNode(n1);
      await store.upsertNode(n2);
      assert.deepEqual(await store.getNode('n1'), n1);
      assert.deepEqual(await store.getNode('n2'), n2);
      assert.equal(await store.getNode('n3'), undefined);

      const seen = { ...n1, usedBytes: 4096, chunkCount: 1, lastSeenAt: '2025-01-02T00:00:00.000Z', draining: true };
      await store.upsertNode(seen);
      assert.deepEqual(byId(await store.listNodes()), [seen, n2]);

      await store.commitFile(file('x', [A, B]), [chunk(A, ['n1', 'n2']), chunk(B, ['n1'])]);
      await store.removeNode('n1');
      await store.removeNode('never');
      assert.equal(await store.getNode('n1'), undefined);
      assert.deepEqual(await store.listNodes(), [n2]);
      assert.deepEqual(await store.chunksOnNode('n1'), []);
      const left = await store.getChunks([A, B]);
      assert.deepEqual(left.get(A)?.nodeIds, ['n2']);
      assert.deepEqual(left.get(B)?.nodeIds, [], 'a chunk with no replica left is still recorded');
    }),

    withStore('everything survives reopening the store', async ({ store, reopen }) => {
      if (!reopen) return;
      const x = file('x', [A, B, A]);
      await store.commitFile(x, [chunk(A, ['n1', 'n2']), chunk(B, ['n2'])]);
      await store.upsertNode(node('n1'));
      await store.close();
      const again = await reopen();
      try {
        assert.deepEqual(await again.getFile('x'), x);
        assert.deepEqual((await again.listChunks()).map(sorted).sort(byHash), [chunk(A, ['n1', 'n2']), chunk(B, ['n2'])]);
        assert.deepEqual(await again.listNodes(), [node('n1')]);
      } finally {
        await again.close();
      }
    }),

    withStore('a node id is enrolled once: a second enrolment of it changes nothing', async ({ store }) => {
      assert.equal(await store.enrollNode(node('n1', { tokenHash: '1'.repeat(64) })), true);
      assert.equal(await store.enrollNode(node('n1', { tokenHash: '2'.repeat(64) })), false);
      assert.equal((await store.getNode('n1'))?.tokenHash, '1'.repeat(64));
    }),

    withStore('an invite enrols nodes while it is valid: not revoked, not expired, not used up, and the id free', async ({ store }) => {
      const now = '2025-06-01T00:00:00.000Z';
      const invite = (id: string, fields: Partial<InviteRecord> = {}): InviteRecord => ({
        id, tokenHash: id.repeat(64).slice(0, 64), label: id, createdAt: now, expiresAt: null, maxUses: null, uses: 0, revokedAt: null, ...fields,
      });
      await store.createInvite(invite('a', { maxUses: 1 }));
      await store.createInvite(invite('b', { expiresAt: '2025-05-01T00:00:00.000Z' }));
      await store.createInvite(invite('c'));
      assert.equal(await store.enrollWithInvite(invite('a').tokenHash, node('tab-1'), now), 'enrolled');
      assert.equal(await store.enrollWithInvite(invite('a').tokenHash, node('tab-2'), now), 'invalid', 'used up');
      assert.equal(await store.enrollWithInvite(invite('b').tokenHash, node('tab-2'), now), 'invalid', 'expired');
      assert.equal(await store.enrollWithInvite(invite('z').tokenHash, node('tab-2'), now), 'invalid', 'unknown');
      assert.equal(await store.enrollWithInvite(invite('c').tokenHash, node('tab-1'), now), 'taken');
      assert.equal(await store.revokeInvite('c', now), true);
      assert.equal(await store.revokeInvite('nope', now), false);
      assert.equal(await store.enrollWithInvite(invite('c').tokenHash, node('tab-2'), now), 'invalid', 'revoked');
      assert.equal(await store.getNode('tab-2'), undefined);
      const listed = await store.listInvites();
      assert.deepEqual(listed.map((i) => [i.id, i.uses, i.revokedAt]), [['a', 1, null], ['b', 0, null], ['c', 0, now]]);
    }),

    withStore('a quarantine reason is kept with the node', async ({ store }) => {
      await store.upsertNode(node('n1', { quarantine: 'served wrong bytes 3 times' }));
      assert.equal((await store.getNode('n1'))?.quarantine, 'served wrong bytes 3 times');
    }),

    withStore('a file\'s manifest is a chunk it references, of kind manifest, and a new version releases the old one', async ({ store }) => {
      assert.deepEqual(await store.commitFile(file('x', [A]), on(['n1'], A), manifest(M1, 10)), { unreferenced: [] });
      assert.deepEqual(sorted((await store.getChunks([M1])).get(M1)!), chunk(M1, ['n1', 'n2'], 'manifest'));
      assert.deepEqual((await store.getChunks([A])).get(A)?.kind, 'chunk');
      assert.deepEqual([...(await store.referenced([A, M1, D]))].sort(), [M1, A]);
      assert.deepEqual((await store.listChunks()).map((c) => [c.hash, c.kind]).sort(), [[M1, 'manifest'], [A, 'chunk']]);
      assert.deepEqual([...(await store.versions())], [['x', 10]]);
      assert.deepEqual(await store.filesWithoutManifest(), []);

      assert.deepEqual(await store.commitFile(file('x', [A]), on(['n1'], A), manifest(M2, 11)), { unreferenced: [M1] });
      assert.deepEqual(await store.forgetUnreferenced([M1]), [M1]);
      assert.equal(await store.largestVersion(), 11);
    }),

    withStore('commitFiles and addReplicas record many at once, as commitFile and addReplica would one by one', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), on(['n1'], A, B), manifest(M1, 10));
      const { unreferenced } = await store.commitFiles([
        { file: file('x', [C]), chunks: on(['n2'], C), manifest: manifest(M2, 11) },
        { file: file('y', [A]), chunks: on(['n2'], A) },
      ]);
      assert.deepEqual(unreferenced.sort(), [M1, B], 'A, no longer in x, is in y');
      assert.deepEqual(byName(await store.listFiles()), [file('x', [C]), file('y', [A])]);
      assert.deepEqual([...(await store.versions())].sort(), [['x', 11], ['y', 0]]);
      await store.addReplicas([{ hash: C, nodeId: 'n3' }, { hash: A, nodeId: 'n3' }, { hash: D, nodeId: 'n3' }]);
      assert.deepEqual((await store.chunksOnNode('n3')).sort(), [A, C], 'a hash with no chunk record gains nothing');
    }),

    withStore('a deletion takes the file\'s place, its manifest referenced until it is forgotten or the name is written again', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), on(['n1'], A, B), manifest(M1, 10));
      const removed = await store.deleteFile('x', deletion(M2, 11, '2025-01-02T00:00:00.000Z'));
      assert.deepEqual(removed?.file, file('x', [A, B]));
      assert.deepEqual(removed?.unreferenced.sort(), [M1, A, B]);
      assert.equal(await store.getFile('x'), undefined);
      assert.deepEqual([...(await store.versions())], [['x', 11]]);
      assert.deepEqual((await store.listChunks()).map((c) => [c.hash, c.kind]), [[M2, 'manifest']]);

      assert.deepEqual(await store.commitFile(file('x', [C]), on(['n1'], C), manifest(M3, 12)), { unreferenced: [M2] }, 'written again');
      await store.deleteFile('x', deletion(M4, 13, '2025-01-05T00:00:00.000Z'));
      assert.deepEqual(await store.forgetDeletions('2025-01-05T00:00:00.000Z'), [], 'a deletion is kept until its time');
      assert.deepEqual(await store.forgetDeletions('2025-01-06T00:00:00.000Z'), [M4]);
      assert.deepEqual([...(await store.versions())], []);
      assert.deepEqual(await store.referenced([M4]), new Set());
    }),

    withStore('a name\'s versions only grow: a commit or deletion not above its stored version is refused and changes nothing', async ({ store }) => {
      assert.equal(await store.nameVersion('x'), 0);
      await store.commitFile(file('x', [A]), on(['n1'], A), manifest(M1, 20));
      assert.equal(await store.nameVersion('x'), 20);
      // A gateway whose clock runs behind commits after one whose clock runs ahead.
      await assert.rejects(store.commitFile(file('x', [B]), on(['n1'], B), manifest(M2, 15)), (err) => err instanceof StaleVersionError && err.stored === 20);
      await assert.rejects(store.commitFile(file('x', [B]), on(['n1'], B), manifest(M2, 20)), StaleVersionError, 'the same version is no newer');
      await assert.rejects(store.deleteFile('x', deletion(M2, 19, '2025-01-02T00:00:00.000Z')), StaleVersionError);
      assert.deepEqual(await store.getFile('x'), file('x', [A]));
      assert.deepEqual((await store.listChunks()).map((c) => c.hash).sort(), [M1, A].sort(), 'nothing of the refused commits is recorded');
      await store.deleteFile('x', deletion(M2, 21, '2025-01-02T00:00:00.000Z'));
      assert.equal(await store.nameVersion('x'), 21, 'a deletion keeps the name\'s version');
      await assert.rejects(store.commitFile(file('x', [B]), on(['n1'], B), manifest(M3, 21)), StaleVersionError);
      await store.commitFile(file('x', [B]), on(['n1'], B), manifest(M3, 22));
      assert.equal(await store.nameVersion('y'), 0, 'versions are per name');
    }),

    withStore('a deletion is recorded for a name without a file too, and files without a manifest are version 0', async ({ store }) => {
      assert.equal(await store.deleteFile('gone', deletion(M1, 20, '2025-01-02T00:00:00.000Z')), undefined);
      assert.deepEqual([...(await store.versions())], [['gone', 20]]);
      assert.ok((await store.referenced([M1])).has(M1));
      const old = file('old', [A]);
      await store.commitFile(old, on(['n1'], A));
      assert.deepEqual(await store.filesWithoutManifest(), [old]);
      assert.equal((await store.versions()).get('old'), 0);
      assert.equal(await store.largestVersion(), 20);
    }),

    withStore('the reason recovery is needed is kept until it is cleared', async ({ store, reopen }) => {
      assert.equal(await store.recoveryNeeded(), null);
      await store.setRecoveryNeeded('this metadata is a backup');
      let current = store;
      if (reopen) {
        await store.close();
        current = await reopen();
      }
      try {
        assert.equal(await current.recoveryNeeded(), 'this metadata is a backup');
        await current.setRecoveryNeeded(null);
        assert.equal(await current.recoveryNeeded(), null);
      } finally {
        if (current !== store) await current.close();
      }
    }),

    withStore('drain and quarantine are set one column at a time, so concurrent admins never undo each other', async ({ store }) => {
      await store.upsertNode(node('n1', { tokenHash: '1'.repeat(64) }));
      // As two gateways would: both read the node, then each sets its own flag.
      await Promise.all([store.setDraining('n1', true), store.setQuarantine('n1', 'lied')]);
      assert.deepEqual(await store.getNode('n1'), node('n1', { draining: true, quarantine: 'lied', tokenHash: '1'.repeat(64) }));
      await store.setQuarantine('n1', null);
      assert.deepEqual(await store.getNode('n1'), node('n1', { draining: true, quarantine: null, tokenHash: '1'.repeat(64) }));
      await store.setDraining('n1', false);
      assert.equal((await store.getNode('n1'))?.draining, false);
      assert.equal(await store.setDraining('gone', true), false, 'no such node');
      assert.equal(await store.setQuarantine('gone', 'x'), false);
      assert.equal(await store.getNode('gone'), undefined, 'and none is made');
    }),

    withStore('a session updates what the node reports, never its identity, drain or quarantine, and never brings a removed node back', async ({ store }) => {
      await store.upsertNode(node('n1', { draining: true, quarantine: 'lied', tokenHash: '1'.repeat(64) }));
      const session = { kind: 'disk' as const, capacityBytes: 5, usedBytes: 4, chunkCount: 3, cpu: 1, lastSeenAt: '2025-02-01T00:00:00.000Z' };
      assert.equal(await store.recordSession('n1', session), true);
      const after = await store.getNode('n1');
      assert.deepEqual(after, { ...node('n1', { draining: true, quarantine: 'lied', tokenHash: '1'.repeat(64) }), ...session });
      await store.removeNode('n1');
      assert.equal(await store.recordSession('n1', session), false);
      assert.equal(await store.getNode('n1'), undefined);
    }),

    withStore('listFilePage pages by name after a cursor, within a prefix, and says where the next page starts', async ({ store }) => {
      const names = ['a', 'b/1', 'b/2', 'b/3', 'b0', 'c', 'é', 'z'];
      for (const name of names) await store.commitFile(file(name, [A]), on(['n1'], A));
      const first = await store.listFilePage({ limit: 3 });
      assert.deepEqual([first.files.map((f) => f.name), first.prefixes, first.next], [['a', 'b/1', 'b/2'], [], 'b/2']);
      assert.deepEqual(first.files[0], file('a', [A]), 'whole records, chunks included');
      const second = await store.listFilePage({ limit: 3, after: first.next });
      assert.deepEqual([second.files.map((f) => f.name), second.next], [['b/3', 'b0', 'c'], 'c']);
      const last = await store.listFilePage({ limit: 3, after: second.next });
      assert.deepEqual([last.files.map((f) => f.name), last.next], [['z', 'é'], undefined], 'byte order: é (0xC3 0xA9) after z');
      const exact = await store.listFilePage({ limit: 2, after: 'c' });
      assert.deepEqual([exact.files.map((f) => f.name), exact.next], [['z', 'é'], undefined], 'a full last page has no next');

      const inB = await store.listFilePage({ limit: 10, prefix: 'b/' });
      assert.deepEqual([inB.files.map((f) => f.name), inB.next], [['b/1', 'b/2', 'b/3'], undefined], 'b0 is not under b/');
      assert.deepEqual((await store.listFilePage({ limit: 10, prefix: 'b/', after: 'a' })).files.length, 3, 'a cursor before the prefix starts at it');
      assert.deepEqual((await store.listFilePage({ limit: 10, prefix: 'nothing' })).files, []);
    }),

    withStore('listFilePage with a delimiter gives each folder once, as a prefix, and pages past it', async ({ store }) => {
      const names = ['a', 'docs/x/1', 'docs/x/2', 'docs/y', 'docs/z/9', 'm/1', 'n'];
      for (const name of names) await store.commitFile(file(name, [A]), on(['n1'], A));
      const top = await store.listFilePage({ limit: 10, delimiter: '/' });
      assert.deepEqual([top.files.map((f) => f.name), top.prefixes, top.next], [['a', 'n'], ['docs/', 'm/'], undefined]);
      const page1 = await store.listFilePage({ limit: 2, delimiter: '/' });
      assert.deepEqual([page1.files.map((f) => f.name), page1.prefixes, page1.next], [['a'], ['docs/'], 'docs/']);
      const page2 = await store.listFilePage({ limit: 2, delimiter: '/', after: page1.next });
      assert.deepEqual([page2.files.map((f) => f.name), page2.prefixes, page2.next], [['n'], ['m/'], undefined], 'nothing under docs/ again');
      const docs = await store.listFilePage({ limit: 10, delimiter: '/', prefix: 'docs/' });
      assert.deepEqual([docs.files.map((f) => f.name), docs.prefixes], [['docs/y'], ['docs/x/', 'docs/z/']]);
    }),

    withStore('replicationSummary counts files and referenced chunks short of copies on the readable nodes', async ({ store }) => {
      assert.deepEqual(await store.replicationSummary([], 2), { files: 0, chunks: 0, underReplicated: 0, unavailable: 0 });
      await store.commitFile(file('x', [A, B, A]), [chunk(A, ['n1', 'n2']), chunk(B, ['n2'])], manifest(M1, 10));
      await store.commitFile(file('y', [C]), [chunk(C, ['n3'])]);
      await store.commitFile(file('z', [D]), [chunk(D, ['n1'])]);
      await store.deleteFile('z', deletion(M2, 11, '2025-01-02T00:00:00.000Z'));
      // Chunks now: A (n1 n2), B (n2), C (n3), M1 (n1 n2), M2 (n1 n2); D is referenced by nothing.
      assert.deepEqual(await store.replicationSummary(['n1', 'n2', 'n3'], 2), { files: 2, chunks: 5, underReplicated: 2, unavailable: 0 });
      assert.deepEqual(await store.replicationSummary(['n1'], 2), { files: 2, chunks: 5, underReplicated: 5, unavailable: 2 });
      assert.deepEqual(await store.replicationSummary(['n1', 'n2', 'n3'], 1), { files: 2, chunks: 5, underReplicated: 0, unavailable: 0 });
    }),

    withStore('the counts follow every kind of change: replicas added and removed, nodes gone, files replaced, deletions forgotten', async ({ store }) => {
      const summary = () => store.replicationSummary(['n1', 'n2', 'n3'], 2);
      await store.commitFile(file('x', [A, B]), on(['n1', 'n2'], A, B), manifest(M1, 1));
      assert.deepEqual(await summary(), { files: 1, chunks: 3, underReplicated: 0, unavailable: 0 });
      await store.removeReplica(A, 'n1');
      await store.reconcileNode('n2', [B]);
      assert.deepEqual(await summary(), { files: 1, chunks: 3, underReplicated: 2, unavailable: 0 });
      await store.addReplicas([{ hash: A, nodeId: 'n3' }, { hash: B, nodeId: 'n3' }, { hash: A, nodeId: 'n3' }]);
      assert.deepEqual(await summary(), { files: 1, chunks: 3, underReplicated: 0, unavailable: 0 }, 'A on n2 n3, B on n1 n3');
      await store.removeNode('n1');
      assert.deepEqual(await summary(), { files: 1, chunks: 3, underReplicated: 2, unavailable: 0 }, 'B and M1 lost their copies on n1');
      await store.removeNode('n3');
      assert.deepEqual(await summary(), { files: 1, chunks: 3, underReplicated: 3, unavailable: 1 }, 'B has no copy left');

      await store.commitFiles([{ file: file('x', [C]), chunks: on(['n2', 'n3'], C), manifest: manifest(M2, 2) }, { file: file('y', [C]), chunks: [] }]);
      assert.deepEqual(await summary(), { files: 2, chunks: 2, underReplicated: 0, unavailable: 0 }, 'A, B and M1 are no longer referenced');
      assert.deepEqual((await store.forgetUnreferenced([A, B, M1, C])).sort(), [M1, A, B]);
      await store.deleteFile('x', deletion(M3, 3, '2025-01-02T00:00:00.000Z'));
      assert.deepEqual(await summary(), { files: 1, chunks: 2, underReplicated: 0, unavailable: 0 }, 'C for y, and the deletion M3 (on n1 n2)');
      assert.deepEqual(await store.forgetDeletions('2025-02-01T00:00:00.000Z'), [M3]);
      assert.deepEqual(await summary(), { files: 1, chunks: 1, underReplicated: 0, unavailable: 0 });
      assert.deepEqual((await store.listChunks()).map((c) => c.hash), [C]);
    }),

    withStore('copiesPerNode counts each node\'s copies and those that would fall below R without it', async ({ store }) => {
      await store.commitFile(file('x', [A, B]), [chunk(A, ['n1', 'n2', 'n3']), chunk(B, ['n1', 'n2'])]);
      await store.commitFile(file('gone', [C]), [chunk(C, ['n1'])]);
      await store.deleteFile('gone');
      const all = await store.copiesPerNode(['n1', 'n2', 'n3'], 2);
      assert.deepEqual(Object.fromEntries(all), {
        n1: { recordedChunks: 2, atRiskChunks: 1 },
        n2: { recordedChunks: 2, atRiskChunks: 1 },
        n3: { recordedChunks: 1, atRiskChunks: 0 },
      }, 'C, referenced by nothing, counts for no one');
      const n3Draining = await store.copiesPerNode(['n1', 'n2'], 2);
      assert.deepEqual(Object.fromEntries(n3Draining), {
        n1: { recordedChunks: 2, atRiskChunks: 2 },
        n2: { recordedChunks: 2, atRiskChunks: 2 },
        n3: { recordedChunks: 1, atRiskChunks: 0 },
      }, 'copies on nodes that are not writable do not count as the ones left');
    }),

    withStore('health and node figures agree with the copies counted one by one, through every kind of change', async ({ store }) => {
      const ids = ['n1', 'n2', 'n3', 'n4'];
      const check = async (step: string) => {
        const [files, live] = [(await store.listFiles()).length, await store.listChunks()];
        for (let mask = 0; mask < 1 << ids.length; mask++) {
          const open = ids.filter((_, i) => mask & (1 << i));
          for (const r of [1, 2, 3]) {
            const readable = live.map((c) => c.nodeIds.filter((id) => open.includes(id)).length);
            const expected = { files, chunks: live.length, underReplicated: readable.filter((n) => n < r).length, unavailable: readable.filter((n) => n === 0).length };
            assert.deepEqual(await store.replicationSummary(open, r), expected, `${step}: summary, readable ${open}, R ${r}`);
            const perNode = new Map<string, { recordedChunks: number; atRiskChunks: number }>();
            for (const c of live) {
              for (const id of c.nodeIds) {
                const entry = perNode.get(id) ?? { recordedChunks: 0, atRiskChunks: 0 };
                entry.recordedChunks++;
                if (c.nodeIds.filter((other) => other !== id && open.includes(other)).length < r) entry.atRiskChunks++;
                perNode.set(id, entry);
              }
            }
            assert.deepEqual(Object.fromEntries(await store.copiesPerNode(open, r)), Object.fromEntries(perNode), `${step}: per node, writable ${open}, R ${r}`);
          }
        }
        assert.deepEqual((await store.holders()).sort(), [...new Set(live.flatMap((c) => c.nodeIds))].sort(), `${step}: holders`);
      };
      await check('empty');
      await store.commitFile(file('x', [A, B]), [chunk(A, ['n1', 'n2']), chunk(B, ['n2', 'n3', 'n4'])], manifest(M1, 1));
      await check('first file');
      await store.commitFile(file('y', [A, C]), [chunk(A, ['n3', 'n4']), chunk(C, ['n1'])]);
      await check('a live chunk gains two copies in one commit');
      await store.addReplicas([{ hash: C, nodeId: 'n2' }, { hash: C, nodeId: 'n3' }, { hash: C, nodeId: 'n2' }, { hash: D, nodeId: 'n1' }]);
      await check('copies added in a batch');
      await store.removeReplica(A, 'n1');
      await store.reconcileNode('n3', [A, B, C]);
      await check('copies removed');
      await store.deleteFile('y');
      await check('a file deleted: C no longer referenced');
      await store.addReplica(C, 'n4');
      await store.commitFile(file('z', [C]), []);
      await check('C referenced again, with the copy added while it was not');
      await store.deleteFile('x', deletion(M2, 2, '2025-01-02T00:00:00.000Z'));
      await check('a deletion recorded');
      await store.forgetUnreferenced([A, B, M1]);
      await check('unreferenced chunks forgotten');
      await store.commitFiles([{ file: file('w', [A, D]), chunks: [chunk(A, ['n2', 'n4']), chunk(D, ['n1', 'n2', 'n3'])] }]);
      await check('chunks forgotten come back');
      await store.removeNode('n2');
      await check('a node removed');
      await store.forgetDeletions('2025-02-01T00:00:00.000Z');
      await check('deletions forgotten');
    }),

    withStore('listChunkPage pages the live chunks by copies, by node or all, each once, in order', async ({ store }) => {
      const hashes = ['01', '02', '03', '04', '05', '06', '07'].map((h) => h.repeat(32));
      const holders = [['n1'], ['n1', 'n2'], [], ['n1', 'n2', 'n3'], ['n2'], ['n2', 'n3'], ['n1', 'n2', 'n3', 'n4']];
      await store.commitFile(file('x', hashes), hashes.map((h, i) => chunk(h, holders[i]!)));
      await store.commitFile(file('gone', [A]), [chunk(A, ['n1', 'n2', 'n3'])]);
      await store.deleteFile('gone');
      const read = async (select: ChunkSelection) => {
        const seen: string[] = [];
        let after: ChunkCursor | undefined;
        do {
          const page = await store.listChunkPage({ select, after, limit: 2 });
          assert.ok(page.chunks.length <= 2);
          seen.push(...page.chunks.map((c) => c.hash));
          after = page.next;
        } while (after);
        return seen;
      };
      const live = (await store.listChunks()).map(sorted);
      const byCopies = (keep: (c: RecordedChunk) => boolean) =>
        live.filter(keep).sort((a, b) => a.nodeIds.length - b.nodeIds.length || (a.hash < b.hash ? -1 : 1)).map((c) => c.hash);
      assert.deepEqual(await read({ copiesBelow: 2 }), byCopies((c) => c.nodeIds.length < 2));
      assert.deepEqual(await read({ copiesAbove: 2 }), byCopies((c) => c.nodeIds.length > 2));
      assert.deepEqual(await read({ node: 'n3' }), live.filter((c) => c.nodeIds.includes('n3')).map((c) => c.hash).sort());
      assert.deepEqual(await read({ all: true }), live.map((c) => c.hash).sort());
      assert.ok(!(await read({ all: true })).includes(A), 'a chunk no file references is not read');
      const [first] = (await store.listChunkPage({ select: { node: 'n4' }, limit: 5 })).chunks;
      assert.deepEqual(sorted(first!), chunk(hashes[6]!, ['n1', 'n2', 'n3', 'n4']));
    }),
  ];
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const D = 'd'.repeat(64);
const [M1, M2, M3, M4] = ['1', '2', '3', '4'].map((c) => c.repeat(64)) as [string, string, string, string];

const CHUNK_SIZE = 1000;

/** A file of `chunks`: a hash alone is a plaintext chunk of CHUNK_SIZE bytes. */
function file(name: string, chunks: Array<string | FileChunk>, fields: Partial<FileRecord> = {}): FileRecord {
  const records = chunks.map((c) => (typeof c === 'string' ? { hash: c, size: CHUNK_SIZE } : c));
  return {
    name,
    size: records.reduce((sum, c) => sum + c.size, 0),
    sha256: '0'.repeat(64),
    chunkSize: CHUNK_SIZE,
    chunks: records,
    replicas: 2,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...fields,
  };
}

function chunk(hash: string, nodeIds: string[], kind: ChunkKind = 'chunk'): RecordedChunk {
  return { hash, size: CHUNK_SIZE, nodeIds, kind };
}

function manifest(hash: string, version: number): ManifestRecord {
  return { version, chunk: chunk(hash, ['n1', 'n2'], 'manifest') };
}

function deletion(hash: string, version: number, deletedAt: string): DeletionRecord {
  return { ...manifest(hash, version), deletedAt };
}

/** Chunk records for `hashes`, each held by the same nodes. */
function on(nodeIds: string[], ...hashes: string[]): RecordedChunk[] {
  return hashes.map((hash) => chunk(hash, nodeIds));
}

function node(id: string, fields: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id,
    kind: 'disk',
    capacityBytes: 1 << 30,
    usedBytes: 0,
    chunkCount: 0,
    cpu: 2,
    tokenHash: 'e'.repeat(64),
    createdAt: '2025-01-01T00:00:00.000Z',
    lastSeenAt: '2025-01-01T00:00:00.000Z',
    draining: false,
    quarantine: null,
    ...fields,
  };
}

function sorted(record: RecordedChunk): RecordedChunk {
  return { ...record, nodeIds: [...record.nodeIds].sort() };
}

function byHash(a: RecordedChunk, b: RecordedChunk): number {
  return a.hash < b.hash ? -1 : 1;
}

function byName(files: FileRecord[]): FileRecord[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : 1));
}

function byId(nodes: NodeRecord[]): NodeRecord[] {
  return [...nodes].sort((a, b) => (a.id < b.id ? -1 : 1));
}
