import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { toShoalError } from '../../../shared/errors.ts';
import { attachment } from './content-disposition.ts';
import { refuseDotSegments } from './raw-path.ts';
import { securityHeaders } from './security-headers.ts';

function app(): Hono {
  const app = new Hono();
  app.onError((err, c) => c.json(toShoalError(err).toJSON(), toShoalError(err).status as 400));
  app.use('*', securityHeaders());
  app.use('*', refuseDotSegments());
  app.get('/page', (c) => c.html('<p>hi</p>'));
  app.get('/api/files/*', (c) => c.text('file'));
  return app;
}

test('every answer, errors included, carries nosniff, no framing, no referrer and a CSP of its own origin only', async () => {
  for (const path of ['/page', '/missing', '/api/files/%2e%2e/x']) {
    const res = await app().request(path, { headers: { host: '127.0.0.1:8000' } });
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const part of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000"]) {
      assert.ok(csp.includes(part), `${path}: ${part} in ${csp}`);
    }
  }
});

test('a Host that is not a plain name and port adds nothing to the CSP', async () => {
  const res = await app().request('/page', { headers: { host: "evil.example; script-src 'unsafe-inline'" } });
  assert.ok(!(res.headers.get('content-security-policy') ?? '').includes('evil'));
});

test('paths with a dot segment in any encoding are refused before routing', async () => {
  for (const path of ['/api/files/sub/%2e%2e/x', '/api/files/%2E%2e/x', '/api/files/./x', '/api/files/sub/.%2e', '/api/files/%2e']) {
    // A Request's URL is normalised, so these reach the middleware only through the raw request-target.
    const res = await app().fetch(new Request(`http://127.0.0.1${path}`), { incoming: { url: path } });
    assert.equal(res.status, 400, path);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_NAME', path);
  }
  const ok = await app().fetch(new Request('http://127.0.0.1/api/files/a..b'), { incoming: { url: '/api/files/a..b' } });
  assert.equal(ok.status, 200);
});

test('Content-Disposition names the base name exactly (RFC 8187) with a safe ASCII stand-in', () => {
  assert.equal(attachment('dir/report.pdf'), `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
  assert.equal(attachment('été "1".txt'), `attachment; filename="_t_ _1_.txt"; filename*=UTF-8''%C3%A9t%C3%A9%20%221%22.txt`);
  const header = attachment('a\r\nSet-Cookie: x=1";.txt');
  assert.ok(!/[\r\n]/.test(header));
  assert.equal(header.split('"').length, 3, 'only the two quotes around the stand-in');
});
