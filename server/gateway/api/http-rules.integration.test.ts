// Names and HTTP details through a real gateway: paths are sent as raw request-targets (fetch
// would normalise them first, which is exactly what an attacker's client does not do).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import type { NodeAgent } from '../../../shared/node-agent.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';

let dataDir = '';
let gateway: Gateway;
let agents: NodeAgent[] = [];
let client: ShoalClient;
const original = randomBytesSeeded(100_000, 4);

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-http-rules-'));
  gateway = await startGateway({ port: 0, dataDir, replicas: 1 });
  agents = [startMemoryNode(gateway.url, dataDir, 'n1')];
  await waitFor(() => gateway.registry.writableLinks().length === 1, 30_000, 'a node online');
  client = new ShoalClient(gateway.url, { token: gateway.adminToken });
  await client.upload('x', original);
  await client.upload('sub/doc.txt', new TextEncoder().encode('hello'));
});
after(async () => {
  for (const agent of agents) agent.stop();
  await gateway?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** One request with `path` sent exactly as written. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(gateway.url);
    const req = request({ host: url.hostname, port: url.port, method, path, agent: false, headers: { authorization: `Bearer ${gateway.adminToken}`, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const code = (answer: { body: Buffer }) => (JSON.parse(answer.body.toString()) as { error: { code: string } }).error.code;

test('dot segments in any encoding are refused on PUT, GET, HEAD and DELETE, and x is untouched', async () => {
  for (const path of ['/api/files/sub/%2e%2e/x', '/api/files/sub/%2E%2e/x', '/api/files/sub/.%2E/x', '/api/files/./x', '/api/files/sub/../x', '/api/files/%2e/x', '/api/files/a/%2e']) {
    for (const method of ['PUT', 'GET', 'HEAD', 'DELETE']) {
      const answer = await raw(method, path, {}, method === 'PUT' ? new TextEncoder().encode('evil') : undefined);
      assert.equal(answer.status, 400, `${method} ${path}`);
      if (method !== 'HEAD') assert.equal(code(answer), 'BAD_NAME', `${method} ${path}`);
    }
  }
  assert.deepEqual(new Uint8Array(await (await client.download('x')).arrayBuffer()), original);
});

test('bidi controls, line separators and C1 controls in names are refused', async () => {
  for (const character of ['\u202e', '\u2066', '\u200f', '\u061c', '\u2028', '\u2029', '\u0085', '\u009b']) {
    const answer = await raw('PUT', `/api/files/${encodeURIComponent(`invoice${character}fdp.exe`)}`, {}, new TextEncoder().encode('x'));
    assert.equal(answer.status, 400, JSON.stringify(character));
    assert.equal(code(answer), 'BAD_NAME');
  }
  assert.ok(!(await client.list()).some((file) => file.name.startsWith('invoice')));
});

test('If-None-Match follows RFC 9110: *, lists and weak tags give 304; If-None-Match: * makes a PUT create-only', async () => {
  const etag = (await raw('HEAD', '/api/files/x')).headers.etag as string;
  for (const header of ['*', etag, `W/${etag}`, `"other", ${etag}`, `W/"other", W/${etag}`]) {
    for (const method of ['GET', 'HEAD']) {
      const answer = await raw(method, '/api/files/x', { 'if-none-match': header });
      assert.equal(answer.status, 304, `${method} If-None-Match: ${header}`);
      assert.equal(answer.body.length, 0);
      assert.equal(answer.headers.etag, etag);
    }
  }
  assert.equal((await raw('GET', '/api/files/x', { 'if-none-match': '"other"' })).status, 200);
  const exists = await raw('PUT', '/api/files/x', { 'if-none-match': '*' }, new TextEncoder().encode('replaced?'));
  assert.equal(exists.status, 412);
  assert.equal(code(exists), 'PRECONDITION_FAILED');
  assert.equal((await raw('PUT', '/api/files/created-once', { 'if-none-match': '*' }, new TextEncoder().encode('new'))).status, 201);
  assert.equal((await raw('DELETE', '/api/files/x', { 'if-match': '"not-this-version"' })).status, 412);
  assert.deepEqual(new Uint8Array(await (await client.download('x')).arrayBuffer()), original);
});

test('an invalid Range is ignored (200, whole file); a valid one past the end is 416', async () => {
  for (const range of ['bytes=5-3', 'bytes=abc', 'bytes=1-0']) {
    const answer = await raw('GET', '/api/files/x', { range });
    assert.equal(answer.status, 200, range);
    assert.equal(answer.body.length, original.length, range);
  }
  const past = await raw('GET', '/api/files/x', { range: `bytes=${original.length}-` });
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], `bytes */${original.length}`);
});

test('answers carry nosniff, no framing, a strict CSP; downloads are attachments named safely', async () => {
  for (const path of ['/', '/api/health', '/api/files/sub/doc.txt', '/api/files/missing']) {
    const answer = await raw('GET', path);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(answer.headers['x-frame-options'], 'DENY', path);
    assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'none'/, path);
  }
  const download = await raw('GET', '/api/files/sub/doc.txt');
  assert.equal(download.headers['content-disposition'], `attachment; filename="doc.txt"; filename*=UTF-8''doc.txt`);
});

test('a small download answers 200, 206, 304 and HEAD with each security header once, over node:http', async () => {
  const whole = await raw('GET', '/api/files/sub/doc.txt');
  const etag = String(whole.headers.etag);
  const answers = [whole, await raw('GET', '/api/files/sub/doc.txt', { range: 'bytes=1-2' }), await raw('GET', '/api/files/sub/doc.txt', { 'if-none-match': etag }), await raw('HEAD', '/api/files/sub/doc.txt')];
  assert.deepEqual(answers.map((answer) => answer.status), [200, 206, 304, 200]);
  assert.equal(answers[1]!.body.toString(), 'el');
  for (const answer of answers) {
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.equal(answer.headers['referrer-policy'], 'no-referrer');
    assert.equal(answer.headers.etag, etag);
    assert.equal(typeof answer.headers['content-security-policy'], 'string');
  }
});
