import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { encodeFrame, decodeFrame, CLOSE, NODE_WS_PATH, PROTOCOL_VERSION, type HelloMessage } from '../../../shared/protocol.ts';
import { nodeProof, nodeVerifier } from '../../../shared/node-proof.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, runShoal, TestCluster, waitFor } from '../../testing/cluster.ts';
import { loadJoinSecret } from './join-secret.ts';

/** What a stranger's client sees: the frames it got and how its connection ended. */
interface Outcome {
  frames: Array<{ type: string }>;
  close?: { code: number; reason: string };
  /** Set when the WebSocket upgrade itself was refused. */
  httpStatus?: number;
}

let cluster: TestCluster;

before(async () => {
  cluster = await TestCluster.start({ nodes: 3 });
});

after(async () => {
  await cluster.stop();
});

function wsUrl(): string {
  return `${cluster.url.replace('http', 'ws')}${NODE_WS_PATH}`;
}

/** Connects as a would-be node, sends `first`, then whatever `next` makes of each frame it gets. */
function attempt(first: Record<string, unknown>, options: { origin?: string; next?: (frame: { type: string; nonce?: string }) => Record<string, unknown> | null } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { frames: [] };
    const socket = new WebSocket(wsUrl(), options.origin ? { origin: options.origin } : {});
    socket.on('open', () => socket.send(encodeFrame(first as unknown as HelloMessage)));
    socket.on('message', (data: Buffer) => {
      const header = decodeFrame(data).header as { type: string; nonce?: string };
      outcome.frames.push(header);
      const reply = options.next?.(header);
      if (reply) socket.send(encodeFrame(reply as unknown as HelloMessage));
    });
    socket.on('unexpected-response', (_req, res) => {
      outcome.httpStatus = res.statusCode;
      resolve(outcome);
    });
    socket.on('close', (code, reason) => {
      outcome.close = { code, reason: reason.toString() };
      resolve(outcome);
    });
    socket.on('error', () => {});
  });
}

function hello(nodeId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'hello', nodeId, kind: 'browser', capacityBytes: 2 ** 52, usedBytes: 0, chunkCount: 0, version: PROTOCOL_VERSION, ...fields };
}

async function nodeIds(): Promise<string[]> {
  return (await cluster.client.nodes()).map((n) => n.id).sort();
}

test('a stranger cannot join: no credential, a made-up one, a page of another origin, or an old protocol', async () => {
  const unknown = await attempt(hello('tab-stranger'));
  assert.deepEqual(unknown.close, {
    code: CLOSE.NOT_ENROLLED,
    reason: 'node tab-stranger is not enrolled in this cluster: create it with shoal node create, or join with an invite',
  });

  const madeUp = await attempt(hello('tab-stranger', { join: { credential: 'inv_made-up-token', verifier: sha256Hex('x') } }));
  assert.deepEqual(madeUp.close, { code: CLOSE.NOT_ADMITTED, reason: 'the join credential is not valid: it is wrong, expired, revoked or used up' });

  const foreignPage = await attempt(hello('tab-stranger'), { origin: 'https://attacker.example' });
  assert.equal(foreignPage.httpStatus, 403, 'a page of another origin cannot open /ws/node at all');

  const oldNode = await attempt({ ...hello('node1'), version: 1, token: 'whatever-the-old-token-was' });
  assert.deepEqual(oldNode.close, { code: CLOSE.BAD_HELLO, reason: `protocol version 1 is not ${PROTOCOL_VERSION}: upgrade this node` });
  // The previous release's nodes would answer a range get with the whole chunk.
  const previous = await attempt({ ...hello('node1'), version: 2 });
  assert.deepEqual(previous.close, { code: CLOSE.BAD_HELLO, reason: `protocol version 2 is not ${PROTOCOL_VERSION}: upgrade this node` });

  assert.deepEqual(await nodeIds(), ['node1', 'node2', 'node3'], 'nothing was registered');
  const data = randomBytesSeeded(300_000, 3);
  const file = await cluster.client.upload('after-strangers.bin', data);
  assert.equal(file.sha256, sha256Hex(data));
});

/** A request as a rebound page makes it: Host and Origin both name the attacker's domain. */
function rebound(method: string, path: string, body?: string): Promise<number> {
  const url = new URL(path, cluster.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method, headers: { host: `rebind.attacker.example:${url.port}`, origin: `http://rebind.attacker.example:${url.port}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('a page reaching the gateway through DNS rebinding can neither make an invite nor open /ws/node', async () => {
  assert.equal(await rebound('POST', '/api/invites', '{}'), 421);
  assert.equal(await rebound('GET', '/api/invites'), 421);
  const url = new URL(cluster.url);
  const ws = await new Promise<number>((resolve) => {
    const socket = new WebSocket(wsUrl(), { headers: { host: `rebind.attacker.example:${url.port}` }, origin: `http://rebind.attacker.example:${url.port}` });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('open', () => resolve(101));
    socket.on('error', () => {});
  });
  assert.equal(ws, 403);
  const plainText = await fetch(new URL('/api/invites', cluster.url), { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } });
  assert.equal(plainText.status, 401, 'a form-like body that a page elsewhere could send without a preflight carries no token');
});

test('an enrolled id cannot be taken: not before its node first starts, not by a replayed proof', async () => {
  const created = await runShoal(['node', 'create', 'n4', '--storage', '1GB', '--data', cluster.dataDir, '--gateway', cluster.url]);
  assert.equal(created.code, 0, created.stderr);

  // The impostor gets a challenge it cannot answer: it does not hold n4's token.
  let nonce = '';
  const impostor = await attempt(hello('n4', { kind: 'disk' }), {
    next: (frame) => {
      nonce = frame.nonce ?? '';
      return frame.type === 'challenge' ? { type: 'proof', proof: sha256Hex(`guess:${frame.nonce}`) } : null;
    },
  });
  assert.deepEqual(impostor.frames.map((f) => f.type), ['challenge']);
  assert.deepEqual(impostor.close, { code: CLOSE.IDENTITY_MISMATCH, reason: 'node id n4 belongs to another node' });
  assert.match(nonce, /^[0-9a-f]{64}$/);

  cluster.startNode('n4');
  await cluster.waitForOnline(4);
  assert.equal(await cluster.nodeStatus('n4'), 'online');
});

test('a session that waits at the challenge cannot bring back a node removed meanwhile', async () => {
  const token = 'token-of-the-slow-node-n9';
  const verifier = await nodeVerifier(token);
  const prove = (frame: { type: string; nonce?: string }) => (frame.type === 'challenge' ? nodeProof(verifier, 'n9', frame.nonce!) : null);
  const join = { credential: loadJoinSecret(cluster.dataDir), verifier };
  const first = await new Promise<string[]>((resolve) => {
    const seen: string[] = [];
    const socket = new WebSocket(wsUrl());
    socket.on('open', () => socket.send(encodeFrame(hello('n9', { kind: 'disk', join }) as unknown as HelloMessage)));
    socket.on('message', async (data: Buffer) => {
      const frame = decodeFrame(data).header as { type: string; nonce?: string };
      seen.push(frame.type);
      const proof = await prove(frame);
      if (proof) socket.send(encodeFrame({ type: 'proof', proof }));
      if (frame.type === 'welcome') socket.close();
    });
    socket.on('close', () => resolve(seen));
  });
  assert.deepEqual(first, ['challenge', 'welcome']);

  const stale = await new Promise<{ code: number; reason: string }>((resolve) => {
    const socket = new WebSocket(wsUrl());
    socket.on('open', () => socket.send(encodeFrame(hello('n9', { kind: 'disk' }) as unknown as HelloMessage)));
    socket.on('message', async (data: Buffer) => {
      const frame = decodeFrame(data).header as { type: string; nonce?: string };
      if (frame.type !== 'challenge') return;
      await cluster.client.removeNode('n9', { force: true });
      socket.send(encodeFrame({ type: 'proof', proof: (await prove(frame))! }));
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  assert.deepEqual(stale, { code: CLOSE.NOT_ENROLLED, reason: 'node n9 is no longer enrolled in this cluster' });
  assert.ok(!(await nodeIds()).includes('n9'), 'the removed node stays removed');
});

test('a node the gateway refuses says why on stderr and exits non-zero', async () => {
  const created = await runShoal(['node', 'create', 'n5', '--data', cluster.dataDir, '--gateway', cluster.url, '--join', 'join_not-the-real-secret']);
  assert.equal(created.code, 0, created.stderr);
  const started = await runShoal(['node', 'start', 'n5', '--data', cluster.dataDir]);
  assert.equal(started.code, 1, `stdout: ${started.stdout} stderr: ${started.stderr}`);
  assert.match(started.stderr, /node n5 was refused by the gateway: the join credential is not valid/);
  await waitFor(async () => !(await nodeIds()).includes('n5'), 30_000, 'n5 not registered');
});
