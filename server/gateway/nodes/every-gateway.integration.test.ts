import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { startDiskNode, type DiskNode } from '../../node/start-node.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../testing/postgres-server.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

/** What a second gateway's data directory needs of the first's, as an operator copies it: the cluster's id, secrets and keys. */
const SHARED_FILES = ['cluster-id', 'join-secret', 's3-key-secret', 'data-key', 'manifest-key'];

const unavailable = postgresUnavailable();
if (unavailable) {
  console.log(unavailable);
  test('nodes link to every gateway', { skip: unavailable }, () => {});
} else {
  describe('two gateways over one PostgreSQL database, disk nodes given only the first', () => {
    let server: PostgresServer;
    let root: string;
    let a: Gateway;
    let b: Gateway;
    const nodes: DiskNode[] = [];
    /** An older node (protocol 3, one link): it knows only gateway A. */
    let old: ScriptedNode;
    const oldChunks = new Map<string, Uint8Array>();
    const client = (gateway: Gateway) => new ShoalClient(gateway.url, { token: gateway.adminToken });
    const download = async (gateway: Gateway, name: string): Promise<string> => {
      const res = await fetch(client(gateway).fileUrl(name), { headers: { authorization: `Bearer ${gateway.adminToken}` } });
      assert.equal(res.status, 200, `${name} through ${gateway.url}: ${res.status}`);
      return sha256Hex(new Uint8Array(await res.arrayBuffer()));
    };
    const statusOn = async (gateway: Gateway, id: string) => (await client(gateway).nodes()).find((node) => node.id === id)?.status;

    before(async () => {
      server = await startPostgres();
      const metadataUrl = await server.createDatabase();
      root = await mkdtemp(join(tmpdir(), 'shoal-every-gateway-'));
      // A stopped gateway says at once which nodes it no longer hears, so nothing here waits out
      // offlineAfterMs: it is long only so that B, on a loaded machine, never finds A's word too old.
      const options = { port: 0, metadataUrl, heartbeatMs: 200, offlineAfterMs: 10_000, repairAfterMs: 1000, replicas: 2 };
      a = await startGateway({ ...options, dataDir: join(root, 'a') });
      await mkdir(join(root, 'b'), { mode: 0o700 });
      for (const name of SHARED_FILES) await copyFile(join(root, 'a', name), join(root, 'b', name));
      b = await startGateway({ ...options, dataDir: join(root, 'b') });
      for (const id of ['d1', 'd2', 'd3']) {
        nodes.push(
          await startDiskNode({ id, token: `token-of-disk-node-${id}`, join: loadJoinSecret(join(root, 'a')), gatewayUrl: a.url, dir: join(root, id), capacityBytes: 1e9 }),
        );
      }
    });

    after(async () => {
      await old?.close().catch(() => {});
      for (const node of nodes) await node.stop();
      await b?.close();
      await a?.close().catch(() => {});
      await server?.stop();
      await rm(root, { recursive: true, force: true });
    });

    test('a disk node given gateway A links to A and B, and both hear it', async () => {
      for (const node of nodes) {
        await waitFor(() => node.agent.gateways().filter((g) => g.online).length === 2, 30_000, `${node.agent.options.nodeId} linked to both`);
        assert.deepEqual(node.agent.gateways().map((g) => g.gatewayId).sort(), [a.gatewayId, b.gatewayId].sort());
      }
      await waitFor(() => ['d1', 'd2', 'd3'].every((id) => a.registry.readable(id) && b.registry.readable(id)), 30_000, 'A and B read from every disk node');
    });

    test('a file uploaded through A downloads through B byte for byte', async () => {
      const bytes = randomBytesSeeded(5 * 1024 * 1024 + 17, 1);
      await client(a).upload('big.bin', bytes);
      assert.equal(await download(b, 'big.bin'), sha256Hex(bytes));
    });

    test('a node of the previous protocol gets full service from A alone, and counts as online on B, which cannot hear it', async () => {
      old = await ScriptedNode.connect({
        gatewayUrl: a.url,
        nodeId: 'old',
        token: 'token-of-the-old-node',
        join: loadJoinSecret(join(root, 'a')),
        answer: ({ header, payload }) => {
          if (header.type === 'put') oldChunks.set(header.hash, payload.slice());
          if (header.type !== 'get') return { type: 'ok' };
          const chunk = oldChunks.get(header.hash);
          return chunk ? { type: 'data', payload: header.offset === undefined ? chunk : chunk.subarray(header.offset, header.offset + header.length!) } : { type: 'error', code: 'CHUNK_NOT_FOUND' };
        },
      });
      await old.sendInventory([]);
      await waitFor(() => a.registry.readable('old'), 30_000, 'A serves the old node');
      const files = new Map<string, string>();
      for (let i = 0; i < 40 && oldChunks.size === 0; i++) {
        const bytes = randomBytesSeeded(10_000 + i, 100 + i);
        await client(a).upload(`small/${i}`, bytes);
        files.set(`small/${i}`, sha256Hex(bytes));
      }
      assert.ok(oldChunks.size > 0, 'A placed copies on the old node');

      await waitFor(async () => (await statusOn(b, 'old')) === 'online', 30_000, 'B shows the old node online');
      assert.equal(b.registry.readable('old'), false, 'B has no link to it');
      for (const [name, sha] of files) assert.equal(await download(b, name), sha, `${name} through B, from the other copies`);
      // Past --repair-after, B still counts the old node's copies: nothing to repair.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const health = await client(b).health();
      assert.deepEqual([health.status, health.nodesOnline, health.underReplicatedChunks, health.repair.done], ['ok', 4, 0, 0]);
    });

    test('with A stopped, the disk nodes stay online through B, which reads and writes', async () => {
      await a.close();
      for (const node of nodes) assert.equal(node.agent.state, 'online', `${node.agent.options.nodeId} still has its link to B`);
      assert.deepEqual(
        await Promise.all(['d1', 'd2', 'd3'].map((id) => statusOn(b, id))),
        ['online', 'online', 'online'],
      );
      await waitFor(async () => (await statusOn(b, 'old')) === 'offline', 30_000, 'the node only A heard is offline once A has gone');
      const bytes = randomBytesSeeded(300_000, 7);
      await client(b).upload('after-a.bin', bytes);
      assert.equal(await download(b, 'after-a.bin'), sha256Hex(bytes));
      assert.equal(await download(b, 'big.bin'), sha256Hex(randomBytesSeeded(5 * 1024 * 1024 + 17, 1)));
    });
  });
}
