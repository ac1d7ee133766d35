import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';

// Resumable uploads (tus 1.0.0) spoken with plain HTTP requests, as a tus client would.
const CHUNK = 64 * 1024;
// Every upload here expires this long after its last request: long enough that none does between
// two requests of a test on a loaded machine, only the one left idle on purpose.
const EXPIRY_MS = 10_000;
const TUS = { 'Tus-Resumable': '1.0.0' };

let dataDir = '';
let gateway: Gateway;
let client: ShoalClient;
let agents: Array<{ stop(): void }> = [];
const backends = ['n1', 'n2'].map(() => new MemoryChunkBackend());

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-tus-'));
  gateway = await startGateway({ port: 0, dataDir, replicas: 2, chunkSize: CHUNK, uploadExpiryMs: EXPIRY_MS });
  agents = backends.map((backend, i) => startMemoryNode(gateway.url, dataDir, `n${i + 1}`, backend));
  client = new ShoalClient(gateway.url, { token: gateway.adminToken });
  await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'two nodes online');
});

after(async () => {
  for (const agent of agents) agent.stop();
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

function tus(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
  const headers = new Headers({ ...TUS, Authorization: `Bearer ${gateway.adminToken}` });
  for (const [key, value] of new Headers(init.headers)) headers.set(key, value);
  return fetch(`${gateway.url}${path}`, { ...init, headers });
}

async function create(name: string, length: number): Promise<string> {
  const res = await tus('/api/uploads', { method: 'POST', headers: { 'Upload-Length': String(length), 'Upload-Metadata': `filename ${Buffer.from(name).toString('base64')}` } });
  assert.equal(res.status, 201, await res.text());
  assert.equal(res.headers.get('tus-resumable'), '1.0.0');
  assert.ok(Date.parse(res.headers.get('upload-expires')!) > Date.now(), 'it says when it expires');
  return res.headers.get('location')!;
}

async function offset(location: string): Promise<number | null> {
  const res = await tus(location, { method: 'HEAD' });
  if (res.status === 404) return null;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return Number(res.headers.get('upload-offset'));
}

function patch(location: string, at: number, body: BodyInit): Promise<Response> {
  return tus(location, { method: 'PATCH', headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(at) }, body, duplex: 'half' });
}

/** A body that sends `bytes`, then breaks off as a dropped connection would. */
function breakingBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      controller.enqueue(bytes);
      await new Promise((resolve) => setTimeout(resolve, 200));
      controller.error(new Error('connection dropped'));
    },
  });
}

async function storedCopies(): Promise<number> {
  return (await Promise.all(backends.map(async (b) => (await b.scan()).size))).reduce((a, b) => a + b, 0);
}

test('the server describes itself and refuses requests that are not tus 1.0.0 or carry no token', async () => {
  const options = await tus('/api/uploads', { method: 'OPTIONS' });
  assert.equal(options.status, 204);
  assert.equal(options.headers.get('tus-version'), '1.0.0');
  assert.match(options.headers.get('tus-extension')!, /creation.*termination.*expiration/);
  assert.equal(options.headers.get('shoal-chunk-size'), String(CHUNK));

  const old = await fetch(`${gateway.url}/api/uploads`, { method: 'POST', headers: { Authorization: `Bearer ${gateway.adminToken}`, 'Upload-Length': '10', 'Upload-Metadata': 'filename eA==' } });
  assert.equal(old.status, 412);
  const stranger = await fetch(`${gateway.url}/api/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': 'filename eA==' } });
  assert.equal(stranger.status, 401);
  const location = await create('private.bin', 10);
  assert.equal((await fetch(`${gateway.url}${location}`, { method: 'HEAD', headers: TUS })).status, 401, 'nor may a stranger look at an upload');
  assert.equal((await patch(location, 0, new Uint8Array(10).fill(1))).status, 204);
});

test('an upload sent in pieces, one of them cut off, resumes from the last durable chunk and is a file only once complete', async () => {
  const bytes = randomBytesSeeded(5 * CHUNK + 1234, 41);
  const location = await create('docs/big.bin', bytes.length);
  assert.equal(await offset(location), 0);

  // A piece ending inside a chunk keeps only whole chunks: the rest is sent again.
  const first = await patch(location, 0, bytes.subarray(0, 2 * CHUNK + 500));
  assert.equal(first.status, 204);
  assert.equal(Number(first.headers.get('upload-offset')), 2 * CHUNK);
  assert.equal(await offset(location), 2 * CHUNK);

  const wrong = await patch(location, 0, bytes.subarray(0, CHUNK));
  assert.equal(wrong.status, 409, 'a piece must start where the upload stands');

  await assert.rejects(patch(location, 2 * CHUNK, breakingBody(bytes.subarray(2 * CHUNK, 3 * CHUNK + 700))));
  await waitFor(async () => (await offset(location)) === 3 * CHUNK, 30_000, 'the whole chunk sent before the break to count');
  assert.deepEqual((await client.listPage({ prefix: 'docs/' })).files, [], 'a half-done upload is not listed');
  await assert.rejects(client.stat('docs/big.bin'), /FILE_NOT_FOUND|404/);

  const last = await patch(location, 3 * CHUNK, bytes.subarray(3 * CHUNK));
  assert.equal(last.status, 204, await last.text());
  assert.equal(Number(last.headers.get('upload-offset')), bytes.length);
  assert.equal(await offset(location), bytes.length, 'a client that missed the answer learns the upload is complete');
  assert.equal((await patch(location, bytes.length, new Uint8Array(0))).status, 204);

  const [file] = (await client.listPage({ prefix: 'docs/' })).files;
  assert.equal(file?.name, 'docs/big.bin');
  assert.equal(file?.size, bytes.length);
  assert.equal(file?.sha256, sha256Hex(bytes));
  const back = new Uint8Array(await (await client.download('docs/big.bin')).arrayBuffer());
  assert.equal(sha256Hex(back), sha256Hex(bytes));
});

test('a piece that goes past the declared length is refused', async () => {
  const location = await create('short.bin', 100);
  const res = await patch(location, 0, new Uint8Array(101));
  assert.equal(res.status, 400);
});

test('a piece that fills the declared length and goes on is refused, and the declared bytes become the file rather than an upload that says it is complete and never is', async () => {
  const data = randomBytesSeeded(3 * CHUNK, 41);
  const location = await create('overflow.bin', 2 * CHUNK);
  const res = await patch(location, 0, data);
  assert.equal(res.status, 400);
  const at = await offset(location);
  assert.ok(at === null || at === 2 * CHUNK, `offset ${at}`);
  const file = await client.download('overflow.bin').catch(() => null);
  assert.ok(file, 'every declared byte was stored, yet no file appeared');
  assert.equal(sha256Hex(new Uint8Array(await file.arrayBuffer())), sha256Hex(data.subarray(0, 2 * CHUNK)));
});

test('a terminated upload and an expired one release their chunks', async () => {
  const before = await storedCopies();
  const bytes = randomBytesSeeded(3 * CHUNK, 42);

  const ended = await create('ended.bin', bytes.length + 1);
  assert.equal((await patch(ended, 0, bytes)).status, 204);
  assert.equal(await storedCopies(), before + 2 * 3, 'three chunks on two nodes each');
  assert.equal((await tus(ended, { method: 'DELETE' })).status, 204);
  assert.equal(await offset(ended), null);
  await waitFor(async () => (await storedCopies()) === before, 30_000, 'the ended upload to leave the nodes');

  const idle = await create('idle.bin', bytes.length + 1);
  assert.equal((await patch(idle, 0, bytes)).status, 204);
  assert.equal(await storedCopies(), before + 2 * 3);
  await waitFor(async () => (await offset(idle)) === null, EXPIRY_MS + 30_000, 'the idle upload to expire');
  await waitFor(async () => (await storedCopies()) === before, 30_000, 'the expired upload to leave the nodes');
  assert.deepEqual((await client.listPage({ prefix: 'idle' })).files, []);
});

test('a marker sent through tus reaches no node in plaintext: every chunk is sealed', async () => {
  const marker = new TextEncoder().encode('SHOAL-TUS-PLAINTEXT-MARKER-7f3a');
  const bytes = randomBytesSeeded(3 * CHUNK + 100, 43);
  for (const at of [0, CHUNK - 10, 2 * CHUNK + 7, bytes.length - marker.length]) bytes.set(marker, at);
  const location = await create('marked.bin', bytes.length);
  assert.equal((await patch(location, 0, bytes.subarray(0, 2 * CHUNK))).status, 204);
  assert.equal((await patch(location, 2 * CHUNK, bytes.subarray(2 * CHUNK))).status, 204);
  for (const backend of backends) {
    for (const hash of (await backend.scan()).keys()) {
      assert.equal(Buffer.from((await backend.read(hash))!).indexOf(marker), -1, `chunk ${hash} holds the marker`);
    }
  }
  assert.equal(sha256Hex(new Uint8Array(await (await client.download('marked.bin')).arrayBuffer())), sha256Hex(bytes));
});

test('uploads that fit are admitted side by side; one that cannot fit beside them is refused when it is created', async () => {
  // Two nodes of 64 MiB, R = 2: three uploads of 20 MiB fit at once (each node holds one copy of
  // each), which counting each node's room only up to one upload's size would refuse.
  const MiB = 1024 * 1024;
  const before = await storedCopies();
  let drop!: () => void;
  const dropped = new Promise<void>((resolve) => (drop = resolve));
  const locations = await Promise.all([1, 2, 3].map((i) => create(`side-${i}.bin`, 20 * MiB)));
  const pieces = locations.map((location, i) =>
    patch(
      location,
      0,
      new ReadableStream({
        async start(controller) {
          controller.enqueue(randomBytesSeeded(CHUNK, 50 + i));
          await dropped;
          controller.error(new Error('connection dropped'));
        },
      }),
    ).then(
      (res) => res.status,
      () => 'dropped',
    ),
  );
  // A refused piece would be answered at once; each admitted one stores its first chunk on both nodes.
  await waitFor(async () => (await storedCopies()) === before + 3 * 2, 30_000, 'every piece admitted and storing');

  const create20 = () => tus('/api/uploads', { method: 'POST', headers: { 'Upload-Length': String(20 * MiB), 'Upload-Metadata': `filename ${Buffer.from('fourth.bin').toString('base64')}` } });
  const fourth = await create20();
  assert.equal(fourth.status, 507, 'the room the running uploads will take is not offered again');
  assert.equal(((await fourth.json()) as { error: { code: string } }).error.code, 'INSUFFICIENT_STORAGE');

  drop();
  assert.deepEqual(await Promise.all(pieces), ['dropped', 'dropped', 'dropped']);
  for (const location of locations) assert.equal((await tus(location, { method: 'DELETE' })).status, 204);
  const later = await create20();
  assert.equal(later.status, 201, 'room frees once the uploads stop sending');
  assert.equal((await tus(later.headers.get('location')!, { method: 'DELETE' })).status, 204);
});
