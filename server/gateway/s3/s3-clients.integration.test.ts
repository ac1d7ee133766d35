import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytesSeeded, runShoal, seededRandom, TestCluster } from '../../testing/cluster.ts';

const MiB = 1024 * 1024;

/** Runs a client program to its end; rejects with its output when it fails. */
function run(program: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 * MiB, timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Every file under `dir`, by path relative to it. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(relative(dir, path), await readFile(path));
    }
  }
  return files;
}

/** `count` files of 0 to 40 KiB (a few larger) in nested folders, from a seed. */
async function makeTree(dir: string, count: number, seed: number): Promise<void> {
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const path = join(dir, `d${i % 7}`, `sub${i % 3}`, `file-${i}${i % 5 === 0 ? ' with space' : ''}.dat`);
    await mkdir(dirname(path), { recursive: true });
    const size = i % 50 === 0 ? 300_000 + i : Math.floor(random() * 40_000);
    await writeFile(path, randomBytesSeeded(size, seed * 1000 + i));
  }
}

function assertSameTree(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [path, bytes] of expected) assert.ok(actual.get(path)!.equals(bytes), `${path} differs`);
}

describe('S3 API through the aws CLI and rclone', () => {
  let cluster: TestCluster;
  let work: string;
  let awsEnv: Record<string, string>;
  let rcloneEnv: Record<string, string>;

  before(async () => {
    cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--s3-port', '0'] });
    work = await mkdtemp(join(tmpdir(), 'shoal-s3-clients-'));
    const { key, secret } = await cluster.client.createS3Key({ role: 'write', name: 'cli test' });
    const home = join(work, 'home');
    await mkdir(home);
    awsEnv = {
      HOME: home,
      AWS_ACCESS_KEY_ID: key.id,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    };
    rcloneEnv = {
      HOME: home,
      RCLONE_CONFIG: join(home, 'rclone.conf'),
      RCLONE_CONFIG_SHOAL_TYPE: 's3',
      RCLONE_CONFIG_SHOAL_PROVIDER: 'Other',
      RCLONE_CONFIG_SHOAL_ACCESS_KEY_ID: key.id,
      RCLONE_CONFIG_SHOAL_SECRET_ACCESS_KEY: secret,
      RCLONE_CONFIG_SHOAL_ENDPOINT: cluster.s3Url,
      RCLONE_CONFIG_SHOAL_REGION: 'us-east-1',
    };
  });
  after(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const aws = (...args: string[]) => run('aws', ['--endpoint-url', cluster.s3Url, ...args], awsEnv);

  test('aws s3 cp (a 20 MiB file in parts, with Expect: 100-continue) and back, byte-identical', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    const big = randomBytesSeeded(20 * MiB + 3, 11);
    await writeFile(join(work, 'big.bin'), big);
    await aws('s3', 'cp', join(work, 'big.bin'), 's3://cli-bucket/in/big.bin');
    await aws('s3', 'cp', 's3://cli-bucket/in/big.bin', join(work, 'big-back.bin'));
    assert.ok((await readFile(join(work, 'big-back.bin'))).equals(big));
    const listing = await aws('s3', 'ls', 's3://cli-bucket/in/');
    assert.match(listing, new RegExp(`${big.length} big\\.bin`));
    const native = await cluster.fetch(cluster.client.fileUrl('cli-bucket/in/big.bin'));
    assert.ok(Buffer.from(await native.arrayBuffer()).equals(big), 'the native API serves what aws s3 cp stored');
  });

  test('aws s3 sync of a tree up and down again, byte-identical', async () => {
    const source = join(work, 'sync-src');
    await makeTree(source, 150, 2);
    await aws('s3', 'sync', source, 's3://cli-bucket/tree/');
    const back = join(work, 'sync-back');
    await aws('s3', 'sync', 's3://cli-bucket/tree/', back);
    assertSameTree(await tree(back), await tree(source));
    // A second sync has nothing to do.
    assert.equal((await aws('s3', 'sync', source, 's3://cli-bucket/tree/')).trim(), '');
  });

  test('aws s3api: put-object with metadata, head-object, list-objects-v2, get-object, delete-object', async () => {
    await writeFile(join(work, 'note.txt'), 'a note\n');
    const put = JSON.parse(await aws('s3api', 'put-object', '--bucket', 'cli-bucket', '--key', 'notes/n1.txt', '--body', join(work, 'note.txt'), '--content-type', 'text/plain', '--metadata', 'author=ann'));
    assert.equal(put.ETag, `"${createHash('md5').update('a note\n').digest('hex')}"`);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'notes/n1.txt'));
    assert.equal(head.ContentType, 'text/plain');
    assert.deepEqual(head.Metadata, { author: 'ann' });
    assert.equal(head.ContentLength, 7);
    const list = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'notes/'));
    assert.deepEqual(list.Contents.map((c: { Key: string }) => c.Key), ['notes/n1.txt']);
    await aws('s3api', 'get-object', '--bucket', 'cli-bucket', '--key', 'notes/n1.txt', '--range', 'bytes=2-5', join(work, 'part.txt'));
    assert.equal(await readFile(join(work, 'part.txt'), 'utf8'), 'note');
    await aws('s3api', 'delete-object', '--bucket', 'cli-bucket', '--key', 'notes/n1.txt');
    await assert.rejects(aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'notes/n1.txt'), /404|Not Found/);
  });

  test('rclone copy and rclone check of a tree of 300 files, and copy back byte-identical', async () => {
    const source = join(work, 'rclone-src');
    await makeTree(source, 300, 3);
    await run('rclone', ['mkdir', 'shoal:rclone-bucket'], rcloneEnv);
    await run('rclone', ['copy', source, 'shoal:rclone-bucket/tree', '--transfers', '8'], rcloneEnv);
    await run('rclone', ['check', source, 'shoal:rclone-bucket/tree'], rcloneEnv);
    const back = join(work, 'rclone-back');
    await run('rclone', ['copy', 'shoal:rclone-bucket/tree', back], rcloneEnv);
    assertSameTree(await tree(back), await tree(source));
    const native = await cluster.client.list();
    assert.equal(native.filter((f) => f.name.startsWith('rclone-bucket/tree/')).length, 300);
  });

  test('shoal s3 key create / list / revoke: the key it prints works with the aws CLI until revoked', async () => {
    const shoal = (...args: string[]) => runShoal([...args, '--data', cluster.dataDir, '--gateway', cluster.url]);
    const created = await shoal('s3', 'key', 'create', '--role', 'read', '--name', 'from the CLI');
    assert.equal(created.code, 0, created.stderr);
    const id = /access key id:\s+(\S+)/.exec(created.stdout)![1]!;
    const secret = /secret access key, shown only now:\s+(\S+)/.exec(created.stdout)![1]!;
    const asReader = { ...awsEnv, AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret };
    assert.match(await run('aws', ['--endpoint-url', cluster.s3Url, 's3', 'ls'], asReader), /cli-bucket/);
    await assert.rejects(run('aws', ['--endpoint-url', cluster.s3Url, 's3', 'mb', 's3://not-for-readers'], asReader), /AccessDenied/);
    const listed = JSON.parse((await shoal('s3', 'key', 'list', '--json')).stdout) as Array<{ id: string; role: string; revokedAt: string | null }>;
    assert.deepEqual(listed.find((k) => k.id === id), { ...listed.find((k) => k.id === id), role: 'read', revokedAt: null });
    assert.equal((await shoal('s3', 'key', 'revoke', id)).code, 0);
    await assert.rejects(run('aws', ['--endpoint-url', cluster.s3Url, 's3', 'ls'], asReader), /InvalidAccessKeyId/);
  });
});
