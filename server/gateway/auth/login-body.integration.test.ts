import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type Gateway } from '../start-gateway.ts';

// Attack: /api/login reads its body before anyone is known. Read whole, a stranger's 400 MB body
// took the gateway from 100 MB to 1.3 GB; a few such bodies at once end it.

let dataDir: string;
let gateway: Gateway;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-login-body-'));
  gateway = await startGateway({ port: 0, dataDir });
});

after(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** POSTs `pieces` MiB of JSON-typed filler to /api/login, with `headers`; the answer's status and error code. */
function postLogin(pieces: number, headers: Record<string, string> = {}): Promise<{ status: number; code?: string }> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method: 'POST', path: '/api/login', headers: { 'content-type': 'application/json', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(body) as { error?: { code: string } }).error?.code }));
    });
    // The gateway may answer and close before the client has sent everything.
    req.on('error', () => {});
    req.on('close', () => reject(new Error('closed without an answer')));
    const piece = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const write = (): void => {
      while (sent < pieces) {
        sent++;
        if (!req.write(piece)) {
          req.once('drain', write);
          return;
        }
      }
      if (!('content-length' in headers)) req.end();
    };
    write();
  });
}

test('a login body past the JSON limit is refused as it streams, and the gateway keeps serving', async () => {
  assert.deepEqual(await postLogin(16), { status: 413, code: 'FILE_TOO_LARGE' });
  const health = await fetch(`${gateway.url}/api/health`, { headers: { authorization: `Bearer ${gateway.adminToken}` } });
  assert.equal(health.status, 200);
});

test('a login that declares a huge body is refused before it is read', { timeout: 30_000 }, async () => {
  assert.deepEqual(await postLogin(1, { 'content-length': String(2 ** 40) }), { status: 413, code: 'FILE_TOO_LARGE' });
});

test('a login of ordinary size is still read', async () => {
  const res = await fetch(`${gateway.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: gateway.adminToken }) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('set-cookie') ?? '', /shoal_session=/);
});
