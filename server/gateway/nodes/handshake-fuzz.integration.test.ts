// The handshake under arbitrary input: a real gateway in this process, and WebSocket clients that
// open with hellos and proofs mutated field by field, garbage, text frames and oversized frames.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../../shared/node-agent.ts';
import { encodeFrame, NODE_WS_PATH, PROTOCOL_VERSION, type Message } from '../../../shared/protocol.ts';
import { waitFor } from '../../testing/cluster.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { loadJoinSecret } from './join-secret.ts';

/** How long one connection may take to be refused; the hello timeout (10 s) never comes into it. */
const CLOSE_WITHIN_MS = 5000;

let dataDir: string;
let gateway: Gateway;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-handshake-fuzz-'));
  gateway = await startGateway({ port: 0, dataDir });
});

after(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Enrolled before the fuzz, so that hellos naming it reach the challenge and a proof is checked. */
const KNOWN_ID = 'known-node';
const KNOWN_TOKEN = 'the-known-node-token';

function agent(join?: string): NodeAgent {
  return new NodeAgent({
    gatewayUrl: gateway.url,
    nodeId: KNOWN_ID,
    token: KNOWN_TOKEN,
    join,
    kind: 'disk',
    store: new MemoryChunkStore(1e6),
    WebSocket: WebSocket as unknown as SocketConstructor,
  });
}

async function joinOnce(join?: string): Promise<void> {
  const node = agent(join);
  node.start();
  try {
    await waitFor(() => node.state === 'online', 30_000, `${KNOWN_ID} online`);
    await waitFor(async () => (await client().nodes()).some((n) => n.id === KNOWN_ID && n.status === 'online'), 30_000, `the gateway to list ${KNOWN_ID} online`);
  } finally {
    node.stop();
  }
  await waitFor(async () => (await client().nodes()).every((n) => n.status === 'offline'), 30_000, `${KNOWN_ID} offline again`);
}

const client = (): ShoalClient => new ShoalClient(gateway.url, { token: gateway.adminToken });

/** Strings a peer may put anywhere: short ASCII, long text of multi-byte graphemes, lone surrogates. */
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', minLength: 40, maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }));
// Strings most: the gateway quotes some fields back in its close reasons.
const anyValue = fc.oneof({ arbitrary: anyString, weight: 3 }, fc.jsonValue({ maxDepth: 3 }), fc.double(), fc.constant(undefined));

const hello = fc.record({
  type: fc.constant('hello'),
  nodeId: fc.oneof({ arbitrary: fc.constantFrom(KNOWN_ID, 'stranger'), weight: 4 }, { arbitrary: anyString, weight: 1 }),
  kind: fc.constantFrom('disk', 'browser'),
  capacityBytes: fc.nat(),
  usedBytes: fc.nat(),
  chunkCount: fc.nat(),
  version: fc.constant(PROTOCOL_VERSION),
  join: fc.option(fc.record({ credential: anyString, verifier: fc.constant('e'.repeat(64)) }), { nil: undefined }),
  gateway: fc.option(fc.record({ host: fc.oneof(fc.constant(''), anyString), nonce: fc.constant('f'.repeat(64)) }), { nil: undefined }),
});

/** A hello with a field or two replaced by anything, or dropped. */
const mutatedHello = fc
  .tuple(hello, fc.array(fc.tuple(fc.constantFrom('type', 'nodeId', 'kind', 'capacityBytes', 'usedBytes', 'chunkCount', 'version', 'join', 'cpu', 'clusterId', 'gateway'), anyValue), { minLength: 1, maxLength: 2 }))
  .map(([fields, mutations]) => Object.assign({ ...fields }, Object.fromEntries(mutations)));

/** A hello whose fields that a refusal quotes back are long multi-byte text: a close reason has room for 123 bytes. */
const quotingHello = fc
  .tuple(hello, fc.constantFrom('version', 'clusterId'), fc.string({ unit: 'grapheme', minLength: 45, maxLength: 120 }))
  .map(([fields, field, text]) => ({ ...fields, [field]: text }));

const proof = fc.record({ type: fc.constant('proof'), proof: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), anyValue) });

type Outgoing = { binary: Uint8Array } | { text: string };

const binary = (header: unknown): Outgoing => ({ binary: encodeFrame(header as Message) });

const frame = fc.oneof(
  { arbitrary: hello.map(binary), weight: 6 },
  { arbitrary: mutatedHello.map(binary), weight: 6 },
  { arbitrary: quotingHello.map(binary), weight: 3 },
  { arbitrary: proof.map(binary), weight: 3 },
  { arbitrary: fc.jsonValue().map(binary), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes): Outgoing => ({ binary: bytes })), weight: 1 },
  { arbitrary: anyString.map((text): Outgoing => ({ text })), weight: 1 },
  // Past the 16 KiB a node may send before it is welcomed.
  { arbitrary: fc.integer({ min: 16 * 1024 + 1, max: 96 * 1024 }).map((size): Outgoing => ({ binary: new Uint8Array(size).fill(0x7b) })), weight: 1 },
);

/** What follows a hello is mostly a proof, so that the proof check sees input too. */
const secondFrame = fc.oneof({ arbitrary: proof.map(binary), weight: 2 }, { arbitrary: frame, weight: 1 });

/**
 * Opens a node connection, sends the first frame, and the second either at once or once the
 * gateway has sent its challenge; says how the connection ended.
 */
function attempt(first: Outgoing, second: Outgoing, secondAfterChallenge: boolean): Promise<{ code: number } | 'still open'> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}${NODE_WS_PATH}`);
    const send = (f: Outgoing) => socket.send('text' in f ? f.text : f.binary, { binary: !('text' in f) });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve('still open');
    }, CLOSE_WITHIN_MS);
    socket.on('error', () => {});
    socket.on('open', () => {
      send(first);
      if (!secondAfterChallenge) send(second);
    });
    socket.on('message', () => {
      if (secondAfterChallenge && socket.readyState === WebSocket.OPEN) send(second);
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code });
    });
  });
}

test('property: arbitrary first and second frames end every connection with a 4xxx close or a dropped socket, register nothing, and a real node joins after', { timeout: 120_000 }, async () => {
  await joinOnce(loadJoinSecret(dataDir));
  const before = await client().nodes();
  const codes = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(frame, secondFrame, fc.boolean(), async (first, second, secondAfterChallenge) => {
      const end = await attempt(first, second, secondAfterChallenge);
      assert.notEqual(end, 'still open', 'the gateway neither refused nor welcomed the connection');
      if (end === 'still open') return;
      codes.set(end.code, (codes.get(end.code) ?? 0) + 1);
      // 1006: the socket was dropped without a close frame, which a refused stranger may see.
      assert.ok((end.code >= 4000 && end.code <= 4999) || end.code === 1006, `closed with ${end.code}`);
    }),
    // A failing case costs CLOSE_WITHIN_MS or more, so it is reported as found rather than shrunk.
    { numRuns: 300, endOnFailure: true },
  );
  console.log(`close codes seen: ${JSON.stringify(Object.fromEntries(codes))}`);

  assert.deepEqual(await client().nodes(), before, 'a fuzzed connection registered or changed a node');
  await joinOnce();
});
