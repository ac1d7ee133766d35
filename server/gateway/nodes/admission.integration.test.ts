import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { encodeFrame, decodeFrame, CLOSE, NODE_WS_PATH, PROTOCOL_VERSION, type HelloMessage } from '../../../shared/protocol.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, runShoal, TestCluster, waitFor } from '../../testing/cluster.ts';

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

  assert.deepEqual(await nodeIds(), ['node1', 'node2', 'node3'], 'nothing was registered');
  const data = randomBytesSeeded(300_000, 3);
  const file = await cluster.client.upload('after-strangers.bin', data);
  assert.equal(file.sha256, sha256Hex(data));
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

test('a node the gateway refuses says why on stderr and exits non-zero', async () => {
  const created = await runShoal(['node', 'create', 'n5', '--data', cluster.dataDir, '--gateway', cluster.url, '--join', 'join_not-the-real-secret']);
  assert.equal(created.code, 0, created.stderr);
  const started = await runShoal(['node', 'start', 'n5', '--data', cluster.dataDir]);
  assert.equal(started.code, 1, `stdout: ${started.stdout} stderr: ${started.stderr}`);
  assert.match(started.stderr, /node n5 was refused by the gateway: the join credential is not valid/);
  await waitFor(async () => !(await nodeIds()).includes('n5'), 2000, 'n5 not registered');
});
