import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { bulkUrl } from '../../../shared/protocol.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { ScriptedNode, type NodeRequest, type ScriptedAnswer } from '../../testing/scripted-node.ts';
import { startGateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

const MiB = 1024 * 1024;
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test('a node that starts posting a chunk and then stalls loses the connection when the get is over, instead of holding it and the bytes sent for ever', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-bulk-stall-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  // Short, so the stalled get times out soon, yet long enough for the upload's put to finish on a loaded machine.
  const gateway = await startGateway({ port: 0, dataDir, replicas: 1, chunkSize: MiB, requestTimeoutMs: 5000 });
  cleanups.push(() => gateway.close());
  const held = new Map<string, Uint8Array>();
  let stalled: Promise<string> | undefined;
  let node: ScriptedNode | undefined;
  const answer = async ({ header }: NodeRequest): Promise<ScriptedAnswer> => {
    if (header.type === 'put' && header.transfer !== undefined) {
      held.set(header.hash, new Uint8Array(await (await fetch(bulkUrl(gateway.url, node!.bulkSession!, header.transfer))).arrayBuffer()));
      return { type: 'ok' };
    }
    if (header.type === 'get' && header.transfer !== undefined && stalled === undefined) {
      const bytes = held.get(header.hash)!;
      // Half the chunk, then nothing: the request is never finished.
      const post = request(bulkUrl(gateway.url, node!.bulkSession!, header.transfer), { method: 'POST', headers: { 'content-length': String(bytes.length) } });
      stalled = new Promise((resolve) => {
        post.on('error', (err) => resolve(`cut off: ${err.message}`));
        post.on('response', () => resolve('answered'));
      });
      post.write(bytes.subarray(0, bytes.length >> 1));
      cleanups.push(() => post.destroy());
      return null;
    }
    return header.type === 'get' ? { type: 'error', code: 'CHUNK_NOT_FOUND' } : { type: 'ok' };
  };
  node = await ScriptedNode.connect({ gatewayUrl: gateway.url, nodeId: 'stalling', token: 'the-token-of-stalling', join: loadJoinSecret(dataDir), kind: 'browser', bulk: true, answer });
  cleanups.push(() => node!.close());
  await node.sendInventory([]);
  await waitFor(() => gateway.registry.writable('stalling'), 30_000, 'node online');

  const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
  await client.upload('stalled.bin', randomBytesSeeded(MiB, 31));
  await client.download('stalled.bin').then((res) => res.arrayBuffer()).catch(() => {});
  await waitFor(() => stalled !== undefined, 30_000, 'the node was asked for the chunk over HTTP');
  const outcome = await Promise.race([stalled!, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 30_000).unref())]);
  assert.match(outcome, /^cut off/, `the stalled POST was ${outcome} long after its get timed out`);
});
