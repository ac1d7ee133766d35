// TLS end to end with a CA made in the test: the gateway serves HTTPS and WSS on one port, disk
// nodes join over wss:// trusting the CA with --ca, and the CLI uploads and downloads over https://.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomBytesSeeded, runShoal, TestCluster } from '../testing/cluster.ts';
import { makeCertificates, type TestCertificates } from '../testing/tls-certs.ts';
import { sha256Hex } from '../sha256.ts';

let dir = '';
let certs: TestCertificates;
let cluster: TestCluster | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-tls-'));
  certs = makeCertificates(dir);
  cluster = await TestCluster.start({ nodes: 2, replicas: 2, tls: certs });
});
after(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the gateway serves HTTPS, and disk nodes given wss:// and --ca join over it', async () => {
  assert.match(cluster!.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const nodes = await cluster!.client.nodes();
  assert.deepEqual(nodes.map((n) => [n.id, n.status]).sort(), [['node1', 'online'], ['node2', 'online']]);
  const plain = await fetch(cluster!.url.replace(/^https:/, 'http:') + '/api/health').then(
    () => 'answered',
    () => 'refused',
  );
  assert.equal(plain, 'refused', 'no plaintext HTTP on the TLS port');
});

test('the CLI uploads and downloads over https:// with --ca, and refuses the certificate without it', async () => {
  const data = randomBytesSeeded(5 * 1024 * 1024 + 17, 3);
  const source = join(dir, 'source.bin');
  await writeFile(source, data);
  const common = ['--gateway', cluster!.url, '--data', cluster!.dataDir];

  const upload = await runShoal(['upload', source, '--name', 'over-tls.bin', ...common, '--ca', certs.ca]);
  assert.equal(upload.code, 0, upload.stderr);
  const target = join(dir, 'back.bin');
  const download = await runShoal(['download', 'over-tls.bin', '-o', target, ...common, '--ca', certs.ca]);
  assert.equal(download.code, 0, download.stderr);
  assert.equal(sha256Hex(await readFile(target)), sha256Hex(data));

  const fromEnv = await runShoal(['ls', ...common], { SHOAL_CA: certs.ca });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.match(fromEnv.stdout, /over-tls\.bin/);

  const untrusted = await runShoal(['ls', ...common]);
  assert.notEqual(untrusted.code, 0, 'a certificate of an unknown CA is refused');
  assert.match(untrusted.stderr, /certificate this client does not trust .*--ca/);
});
