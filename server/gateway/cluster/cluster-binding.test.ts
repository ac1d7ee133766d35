import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportKeys, importKeys } from '../../cli/cluster-keys.ts';
import { CLUSTER_ID_FILE, loadClusterIdentity } from '../cluster-identity.ts';
import { DATA_KEY_FILE, DATA_KEY_PREFIX } from '../files/chunk-cipher.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { JOIN_SECRET_FILE } from '../nodes/join-secret.ts';
import { readSecret, storeSecret } from '../secret-file.ts';
import { SHARED_SECRET_FILES, sharedSecrets } from '../shared-secrets.ts';
import { bindCluster, checkCluster } from './cluster-binding.ts';
import { SqliteClusterRecord } from './sqlite-cluster-record.ts';

// One shared metadata database, as gateways on PostgreSQL share theirs, and a data directory per gateway.
let work: string;
let metadata: SqliteMetadataStore;
let record: SqliteClusterRecord;
const identity = (dir: string) => (mkdirSync(dir, { recursive: true }), loadClusterIdentity(dir));
const bind = (dir: string) => bindCluster(dir, identity(dir), record, sharedSecrets(dir, metadata));

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'shoal-binding-'));
  metadata = SqliteMetadataStore.open(join(work, 'shared.db'));
  record = new SqliteClusterRecord(metadata.database);
  await bind(join(work, 'first'));
});
after(async () => {
  await metadata.close();
  await rm(work, { recursive: true, force: true });
});

test("the first gateway claims the database with its cluster's id and a check of each shared secret, never the secret", async () => {
  const first = join(work, 'first');
  const stored = (await record.read())!;
  assert.equal(stored.clusterId, loadClusterIdentity(first).id);
  assert.deepEqual(Object.keys(stored.checks).sort(), SHARED_SECRET_FILES.map(({ file }) => file).sort());
  const secrets = SHARED_SECRET_FILES.map(({ file, prefix }) => readSecret(first, file, prefix)!);
  const text = JSON.stringify(await record.read());
  for (const secret of secrets) assert.ok(!text.includes(secret) && !text.includes(secret.slice(secret.indexOf('_') + 1)), 'no secret in the database');
  await bind(first);
});

test('a new data directory is refused until it holds the keys of shoal key export, then joins', async () => {
  const second = join(work, 'second');
  await assert.rejects(bind(second), /belongs to cluster .* holds none of its keys: .*shoal key export FILE --data DIR.*shoal key import FILE --data/);
  assert.equal(existsSync(join(second, CLUSTER_ID_FILE)), false, 'the id it made for itself is gone, so the import meets nothing');
  assert.deepEqual(importKeys(second, exportKeys(join(work, 'first')), false).sort(), ['cluster-id', ...SHARED_SECRET_FILES.map(({ file }) => file)].sort());
  await bind(second);
  assert.equal(loadClusterIdentity(second).id, (await record.read())!.clusterId);
});

test("a data directory of another cluster is refused: it never writes this cluster's metadata", async () => {
  const other = join(work, 'other');
  const otherDb = SqliteMetadataStore.open(join(work, 'other.db'));
  try {
    await bindCluster(other, identity(other), new SqliteClusterRecord(otherDb.database), sharedSecrets(other, otherDb));
  } finally {
    await otherDb.close();
  }
  const before = await record.read();
  await assert.rejects(bind(other), /the metadata database belongs to cluster .*, but .*other to cluster .*: this gateway will not write another cluster's metadata/);
  assert.equal(existsSync(join(other, CLUSTER_ID_FILE)), true, "an established directory keeps its cluster's id");
  assert.deepEqual(await record.read(), before);
});

test("a gateway of the cluster missing a shared secret, or holding another data key, is refused", async () => {
  const keys = exportKeys(join(work, 'first'));
  const lacking = join(work, 'lacking');
  importKeys(lacking, keys.split('\n').filter((line) => !line.startsWith(JOIN_SECRET_FILE)).join('\n'), false);
  await assert.rejects(bind(lacking), /lacking has no join-secret, which the gateways of cluster .* share \(its nodes enrol with it\): put back your copy of it, or .*shoal key import/);

  const wrongKey = join(work, 'wrong-key');
  importKeys(wrongKey, keys, false);
  storeSecret(wrongKey, DATA_KEY_FILE, DATA_KEY_PREFIX, `${DATA_KEY_PREFIX}${'A'.repeat(43)}`, true);
  await assert.rejects(bind(wrongKey), /wrong-key\/data-key is not the one the gateways of cluster .* share/);
});

test('a key export of the first version (data key and manifest key) is still imported', () => {
  const old = join(work, 'old-export');
  const v2 = exportKeys(join(work, 'first')).split('\n');
  const v1 = ['shoal-keys 1', ...v2.filter((line) => /^(data-key|manifest-key) /.test(line)), ''].join('\n');
  assert.deepEqual(importKeys(old, v1, false), ['data-key', 'manifest-key']);
  assert.throws(() => importKeys(old, 'shoal-keys 3\n', false), /not a key export/);
  assert.throws(() => importKeys(old, `${v2[0]}\nsomething else\n`, false), /does not know: something/);
});

test('recovery checks the same without making a secret: a data key made there would open nothing', async () => {
  const fresh = join(work, 'recovering');
  const empty = SqliteMetadataStore.open(join(work, 'empty.db'));
  try {
    await checkCluster(fresh, identity(fresh), new SqliteClusterRecord(empty.database), sharedSecrets(fresh, empty));
    assert.equal(readSecret(fresh, DATA_KEY_FILE, DATA_KEY_PREFIX), null);
  } finally {
    await empty.close();
  }
  await assert.rejects(checkCluster(fresh, identity(fresh), record, sharedSecrets(fresh, metadata)), /belongs to cluster/);
});

test('of two new gateways claiming one empty database at once, the one refused is left empty, ready for shoal key import', async () => {
  const db = SqliteMetadataStore.open(join(work, 'raced.db'));
  try {
    const store = new SqliteClusterRecord(db.database);
    const dirs = [join(work, 'race-1'), join(work, 'race-2')];
    const results = await Promise.allSettled(dirs.map((dir) => bindCluster(dir, identity(dir), store, sharedSecrets(dir, db))));
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const loser = dirs[results.findIndex((r) => r.status === 'rejected')]!;
    for (const file of [CLUSTER_ID_FILE, ...SHARED_SECRET_FILES.map(({ file }) => file)]) assert.equal(existsSync(join(loser, file)), false, file);
  } finally {
    await db.close();
  }
});
