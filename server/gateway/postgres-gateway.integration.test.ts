import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FilePage } from '../../shared/api-types.ts';
import { randomBytesSeeded, runShoal, TestCluster } from '../testing/cluster.ts';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../testing/postgres-server.ts';
import { sha256Hex } from '../sha256.ts';
import { METADATA_FILE } from './open-metadata.ts';

const unavailable = postgresUnavailable();
if (unavailable) {
  console.log(unavailable);
  test('a gateway on PostgreSQL', { skip: unavailable }, () => {});
} else {
  describe('a gateway with its metadata in PostgreSQL', () => {
    let server: PostgresServer;
    let cluster: TestCluster;
    const names = ['a.txt', 'docs/1.txt', 'docs/2.txt', 'docs/deep/3.txt', 'z.txt'];

    before(async () => {
      server = await startPostgres();
      const url = await server.createDatabase();
      // `shoal node create` enrols nodes where the gateway will look for them: the environment says where.
      process.env.SHOAL_METADATA = url;
      cluster = await TestCluster.start({ nodes: 3, gatewayArgs: ['--metadata', url] });
      for (const [i, name] of names.entries()) await cluster.client.upload(name, randomBytesSeeded(1000 + i, i));
    });
    after(async () => {
      delete process.env.SHOAL_METADATA;
      await cluster?.stop();
      await server?.stop();
    });

    const page = async (query: string): Promise<FilePage> => {
      const res = await cluster.fetch(`/api/files?${query}`);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as FilePage;
    };

    test('files are stored, read back and listed page by page, never in the data directory', async () => {
      assert.equal(existsSync(join(cluster.dataDir, METADATA_FILE)), false);
      const res = await cluster.fetch(cluster.client.fileUrl('docs/2.txt'));
      assert.equal(sha256Hex(Buffer.from(await res.arrayBuffer())), sha256Hex(randomBytesSeeded(1002, 2)));

      const first = await page('limit=2');
      assert.deepEqual([first.files.map((f) => f.name), first.next, first.prefixes], [['a.txt', 'docs/1.txt'], 'docs/1.txt', undefined]);
      assert.equal(first.files[0]!.health, 'ok');
      const rest = await page(`limit=10&after=${encodeURIComponent(first.next!)}`);
      assert.deepEqual([rest.files.map((f) => f.name), rest.next], [['docs/2.txt', 'docs/deep/3.txt', 'z.txt'], undefined]);
      const top = await page('delimiter=/');
      assert.deepEqual([top.files.map((f) => f.name), top.prefixes], [['a.txt', 'z.txt'], ['docs/']]);
      const docs = await page('delimiter=/&prefix=docs/');
      assert.deepEqual([docs.files.map((f) => f.name), docs.prefixes], [['docs/1.txt', 'docs/2.txt'], ['docs/deep/']]);
      assert.deepEqual((await cluster.client.list()).map((f) => f.name), names, 'the client follows the pages');

      for (const bad of ['limit=0', 'limit=10001', 'limit=ten', 'delimiter=-']) {
        const res = await cluster.fetch(`/api/files?${bad}`);
        assert.equal(res.status, 400, bad);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
      }
    });

    test('health and node figures are counted by the database', async () => {
      const health = await cluster.client.health();
      // Each file: one chunk and its manifest.
      assert.deepEqual([health.status, health.files, health.chunks, health.underReplicatedChunks], ['ok', names.length, names.length * 2, 0]);
      const nodes = await cluster.client.nodes();
      assert.equal(nodes.reduce((sum, n) => sum + n.recordedChunks, 0), names.length * 2 * 2, 'two copies of each');
    });

    test('a restarted gateway finds everything where it left it', async () => {
      await cluster.kill(cluster.gateway, 'SIGKILL');
      await cluster.startGateway();
      await cluster.waitForOnline(3);
      assert.deepEqual((await cluster.client.list()).map((f) => f.name), names);
    });

    test('an empty database for a data directory whose cluster lived elsewhere waits for recovery', async () => {
      await cluster.kill(cluster.gateway, 'SIGTERM');
      const empty = await server.createDatabase();
      const refused = await runShoal(['gateway', '--port', '0', '--data', cluster.dataDir, '--metadata', empty]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /must be recovered first .*had no Shoal metadata.*shoal recover/);
      await cluster.startGateway();
    });
  });
}
