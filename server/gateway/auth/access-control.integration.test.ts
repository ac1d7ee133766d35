import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import type { Role } from '../../../shared/api-types.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import { DEFAULT_FAILED_ATTEMPTS } from './failed-attempts.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { fetchTrusting, makeCertificates } from '../../testing/tls-certs.ts';

let dataDir: string;
let gateway: Gateway;
let admin: ShoalClient;
const tokens = {} as Record<Role, string>;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-auth-'));
  gateway = await startGateway({ port: 0, dataDir });
  admin = new ShoalClient(gateway.url, { token: gateway.adminToken });
  for (const role of ['read', 'write', 'admin'] as const) tokens[role] = (await admin.createToken({ role, name: `test ${role}` })).secret;
});

after(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Call {
  method: string;
  path: string;
  need: Role;
  json?: unknown;
}

/** Every route family of the API, with the least role that may call it. */
const CALLS: Call[] = [
  { method: 'GET', path: '/api/files', need: 'read' },
  { method: 'GET', path: '/api/files/a.txt', need: 'read' },
  { method: 'HEAD', path: '/api/files/a.txt', need: 'read' },
  { method: 'GET', path: '/api/nodes', need: 'read' },
  { method: 'GET', path: '/api/health', need: 'read' },
  { method: 'GET', path: '/api/events', need: 'read' },
  { method: 'GET', path: '/api/session', need: 'read' },
  { method: 'PUT', path: '/api/files/a.txt', need: 'write' },
  { method: 'DELETE', path: '/api/files/a.txt', need: 'write' },
  { method: 'POST', path: '/api/nodes/n1/drain', need: 'admin' },
  { method: 'POST', path: '/api/nodes/n1/undrain', need: 'admin' },
  { method: 'POST', path: '/api/nodes/n1/trust', need: 'admin' },
  { method: 'DELETE', path: '/api/nodes/n1?force=1', need: 'admin' },
  { method: 'POST', path: '/api/rebalance', need: 'admin' },
  { method: 'POST', path: '/api/scrub', need: 'admin' },
  { method: 'POST', path: '/api/collection/confirm', need: 'admin', json: {} },
  { method: 'GET', path: '/api/invites', need: 'admin' },
  { method: 'POST', path: '/api/invites', need: 'admin', json: { label: 'x' } },
  { method: 'DELETE', path: '/api/invites/nope', need: 'admin' },
  { method: 'GET', path: '/api/tokens', need: 'admin' },
  { method: 'POST', path: '/api/tokens', need: 'admin', json: { role: 'read' } },
  { method: 'DELETE', path: '/api/tokens/nope', need: 'admin' },
  { method: 'POST', path: '/api/login-links', need: 'read', json: {} },
  { method: 'GET', path: '/api/no-such-route', need: 'admin' },
];

const RANK: Record<Role, number> = { read: 0, write: 1, admin: 2 };

/** Status of one call; an event stream is cut as soon as its headers are in. */
async function status(call: Call, headers: Record<string, string>): Promise<{ status: number; code?: string; challenge: string | null; retryAfter: string | null }> {
  const body = call.json === undefined ? (call.method === 'PUT' ? 'hello' : undefined) : JSON.stringify(call.json);
  const abort = new AbortController();
  const res = await fetch(`${gateway.url}${call.path}`, {
    method: call.method,
    headers: { ...(call.json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body,
    signal: abort.signal,
  });
  const text = call.path === '/api/events' && res.ok ? '' : await res.text();
  abort.abort();
  const code = text.startsWith('{"error"') ? (JSON.parse(text) as { error: { code: string } }).error.code : undefined;
  return { status: res.status, code, challenge: res.headers.get('www-authenticate'), retryAfter: res.headers.get('retry-after') };
}

test('every route family: 401 without a valid token, 403 for a role that may not, through for one that may', async () => {
  for (const call of CALLS) {
    const what = `${call.method} ${call.path}`;
    const anonymous = await status(call, {});
    assert.equal(anonymous.status, 401, `${what} without a token`);
    if (call.method !== 'HEAD') assert.equal(anonymous.code, 'UNAUTHORIZED', what);
    assert.match(anonymous.challenge ?? '', /^Bearer/, `${what} names the scheme it wants`);
    assert.equal((await status(call, { authorization: 'Basic YWRtaW46YWRtaW4=' })).status, 401, `${what} with another scheme`);

    for (const role of ['read', 'write', 'admin'] as const) {
      const answer = await status(call, { authorization: `Bearer ${tokens[role]}` });
      if (RANK[role] < RANK[call.need]) {
        assert.equal(answer.status, 403, `${what} as ${role}`);
        if (call.method !== 'HEAD') assert.equal(answer.code, 'FORBIDDEN', `${what} as ${role}`);
      } else {
        assert.ok(answer.status !== 401 && answer.status !== 403, `${what} as ${role} answered ${answer.status} ${answer.code}`);
      }
    }
  }
});

test('a read token cannot write: its upload and delete are refused and change nothing', async () => {
  const reader = new ShoalClient(gateway.url, { token: tokens.read });
  await assert.rejects(reader.upload('by-reader.txt', new TextEncoder().encode('x')), { code: 'FORBIDDEN' });
  await assert.rejects(reader.delete('by-reader.txt'), { code: 'FORBIDDEN' });
  await assert.rejects(reader.scrub(), { code: 'FORBIDDEN' });
  assert.deepEqual(await reader.list(), []);
});

test('tokens are random, kept only as hashes, listed without them, and a revoked one is refused with its sessions', async () => {
  const { token, secret } = await admin.createToken({ role: 'write', name: 'ci' });
  assert.match(secret, /^shoal_[A-Za-z0-9_-]{43}$/);
  const listed = (await admin.tokens()).find((t) => t.id === token.id);
  assert.deepEqual(listed, { id: token.id, name: 'ci', role: 'write', createdAt: token.createdAt, revokedAt: null });
  assert.ok(!JSON.stringify(await admin.tokens()).includes(secret.slice(6)), 'the list never shows a token');
  const db = await readFile(join(dataDir, 'metadata.db'));
  assert.ok(!db.includes(secret), 'the metadata holds no token in the clear');

  const client = new ShoalClient(gateway.url, { token: secret });
  assert.equal((await client.session()).role, 'write');
  const cookie = await loginCookie({ token: secret });
  assert.equal((await fetch(`${gateway.url}/api/session`, { headers: { cookie } })).status, 200);

  await admin.revokeToken(token.id);
  await assert.rejects(client.session(), { code: 'UNAUTHORIZED' });
  assert.equal((await fetch(`${gateway.url}/api/session`, { headers: { cookie } })).status, 401, 'its dashboard session ended with it');
  assert.ok((await admin.tokens()).find((t) => t.id === token.id)?.revokedAt);
  await assert.rejects(admin.revokeToken('nope'), { code: 'NOT_FOUND' });
  await assert.rejects(admin.createToken({ role: 'root' as Role }), { code: 'BAD_REQUEST' });
});

async function loginCookie(credential: { code: string } | { token: string }): Promise<string> {
  const res = await fetch(`${gateway.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credential) });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = res.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\//);
  return cookie.split(';')[0]!;
}

test('a login link works once; its cookie authenticates the event stream; logout ends the session', async () => {
  const link = new URL(await gateway.loginLink());
  assert.equal(link.pathname, '/login');
  const code = new URLSearchParams(link.hash.slice(1)).get('code')!;
  assert.ok(!link.href.includes(gateway.adminToken), 'the link does not carry the admin token');
  const cookie = await loginCookie({ code });
  const again = await fetch(`${gateway.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  assert.equal(again.status, 401, 'a used code is worth nothing');

  const events = new AbortController();
  const stream = await fetch(`${gateway.url}/api/events`, { headers: { cookie }, signal: events.signal });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
  events.abort();

  const out = await fetch(`${gateway.url}/api/logout`, { method: 'POST', headers: { cookie, origin: gateway.url } });
  assert.equal(out.status, 204);
  const ended = await fetch(`${gateway.url}/api/events`, { headers: { cookie } });
  assert.equal(ended.status, 401);
  assert.match(ended.headers.get('set-cookie') ?? '', /^shoal_session=; Max-Age=0/, 'the browser is told to drop the ended session');
});

test('a request riding on the cookie that changes state must come from the gateway’s own page', async () => {
  const cookie = await loginCookie({ token: gateway.adminToken });
  // What a page on another site (or another port: same site, so the cookie goes along) can send
  // without a preflight: a no-cors text/plain POST.
  const forged = { method: 'POST', headers: { cookie, origin: 'http://127.0.0.1:1', 'content-type': 'text/plain' }, body: 'x' };
  assert.equal((await fetch(`${gateway.url}/api/scrub`, forged)).status, 403);
  assert.equal((await fetch(`${gateway.url}/api/nodes/n1/drain`, forged)).status, 403);
  assert.equal((await fetch(`${gateway.url}/api/files/x`, { ...forged, method: 'PUT' })).status, 403);
  assert.equal((await fetch(`${gateway.url}/api/scrub`, { method: 'POST', headers: { cookie } })).status, 403, 'no Origin at all');
  assert.equal((await fetch(`${gateway.url}/api/scrub`, { method: 'POST', headers: { cookie, origin: gateway.url } })).status, 202, 'the dashboard itself');
  assert.equal((await fetch(`${gateway.url}/api/health`, { headers: { cookie, origin: 'http://127.0.0.1:1' } })).status, 403, 'nor may it read');
  assert.equal((await fetch(`${gateway.url}/api/health`, { headers: { cookie } })).status, 200, 'a link followed to the gateway sends no Origin');
  assert.equal(
    (await fetch(`${gateway.url}/api/scrub`, { method: 'POST', headers: { authorization: `Bearer ${tokens.admin}`, origin: 'http://127.0.0.1:1' } })).status,
    202,
    'a bearer header is no cookie a page elsewhere could ride on',
  );
  const login = await fetch(`${gateway.url}/api/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ token: tokens.admin }) });
  assert.equal(login.status, 400, 'no login by a form another site posts');
});

/** A raw request with the Host a rebound name would carry. */
function withHost(path: string, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway.port, path, headers: { ...headers, host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a Host the gateway does not serve is refused for the API and the web app alike', async () => {
  const foreign = `rebind.attacker.example:${gateway.port}`;
  assert.equal(await withHost('/', foreign), 421);
  assert.equal(await withHost('/login', foreign), 421);
  assert.equal(await withHost('/api/health', foreign, { authorization: `Bearer ${tokens.admin}` }), 421);
  assert.equal(await withHost('/', `localhost:${gateway.port}`), 200);
  assert.equal(await withHost('/api/health', `127.0.0.1:${gateway.port}`, { authorization: `Bearer ${tokens.admin}` }), 200);
});

test('failed attempts from one address are limited: 429 with Retry-After, even for a right token, until it waits', async () => {
  const wrong = { authorization: `Bearer shoal_${'x'.repeat(43)}` };
  let last = await status(CALLS[0]!, wrong);
  for (let i = 0; i < DEFAULT_FAILED_ATTEMPTS.burst + 1 && last.status === 401; i++) last = await status(CALLS[0]!, wrong);
  assert.equal(last.status, 429);
  assert.equal(last.code, 'RATE_LIMITED');
  assert.ok(Number(last.retryAfter) >= 1, `Retry-After ${last.retryAfter}`);
  assert.equal((await status(CALLS[0]!, { authorization: `Bearer ${tokens.admin}` })).status, 429, 'no guess is checked while limited');
  const login = await fetch(`${gateway.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'login_guess' }) });
  assert.equal(login.status, 429, 'logins count and wait too');
});

test('the first start writes an admin token to DATA/admin-token (0600); an upgraded data directory without tokens gets one', async () => {
  const path = join(dataDir, 'admin-token');
  assert.equal((await readFile(path, 'utf8')).trim(), gateway.adminToken);
  assert.equal((await stat(path)).mode & 0o777, 0o600);

  // What a data directory of the release before tokens looks like: metadata, no token, no file.
  const old = await mkdtemp(join(tmpdir(), 'shoal-auth-old-'));
  try {
    const first = await startGateway({ port: 0, dataDir: old });
    await first.close();
    await rm(join(old, 'admin-token'));
    const store = SqliteMetadataStore.open(join(old, 'metadata.db'));
    store.database.exec('DELETE FROM api_sessions; DELETE FROM api_tokens');
    await store.close();

    const upgraded = await startGateway({ port: 0, dataDir: old });
    try {
      assert.equal((await readFile(join(old, 'admin-token'), 'utf8')).trim(), upgraded.adminToken);
      assert.equal((await new ShoalClient(upgraded.url, { token: upgraded.adminToken }).session()).role, 'admin');
      const revoked = upgraded.adminToken;
      const client = new ShoalClient(upgraded.url, { token: revoked });
      await client.revokeToken((await client.session()).tokenId);
      await upgraded.close();
      const rotated = await startGateway({ port: 0, dataDir: old });
      assert.notEqual(rotated.adminToken, revoked, 'a revoked admin token is replaced at the next start');
      assert.equal((await new ShoalClient(rotated.url, { token: rotated.adminToken }).session()).role, 'admin');
      await rotated.close();
    } catch (err) {
      await upgraded.close().catch(() => {});
      throw err;
    }
  } finally {
    await rm(old, { recursive: true, force: true });
  }
});

test('over TLS the session cookie is Secure, and the printed link is https', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-auth-tls-'));
  try {
    const certs = makeCertificates(dir);
    const tls = await startGateway({ port: 0, dataDir: join(dir, 'data'), tlsCert: certs.cert, tlsKey: certs.key });
    try {
      const link = new URL(await tls.loginLink());
      assert.equal(link.protocol, 'https:');
      const res = await fetchTrusting(certs.ca)(`${tls.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: new URLSearchParams(link.hash.slice(1)).get('code') }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('set-cookie') ?? '', /;\s*Secure/i);
    } finally {
      await tls.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
