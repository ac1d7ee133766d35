import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright';
import { launchBrowser } from '../server/testing/browser.ts';
import { waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { startWebCluster } from '../server/testing/web-cluster.ts';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));

let cluster: TestCluster | undefined;
let browser: Browser | undefined;

before(async () => {
  cluster = await startWebCluster({ nodes: 1 });
  browser = await launchBrowser();
  await mkdir(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** The link `shoal gateway` printed for the dashboard. */
function printedLink(): string {
  const match = /dashboard: open (http:\/\/\S+) once/.exec(cluster!.gatewayOutput);
  assert.ok(match, `shoal gateway printed no dashboard link: ${cluster!.gatewayOutput}`);
  return match[1]!;
}

const dashboard = (page: Page) => page.locator('shoal-dashboard-page:not([hidden])');
const loginPage = (page: Page) => page.locator('shoal-login-page');

test('the link shoal gateway prints logs the browser in once, with an HttpOnly, SameSite=Strict session cookie', async () => {
  const link = printedLink();
  assert.match(link, /\/login#code=login_/);
  assert.ok(!link.includes(cluster!.token), 'the link does not carry the admin token');

  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(link);
  await dashboard(page).waitFor({ timeout: 30_000 });
  await page.locator('shoal-node-card[node-id="node1"][status="online"]').waitFor({ timeout: 30_000 });
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(new URL(page.url()).hash, '', 'the code leaves the address bar');
  assert.equal(await page.locator('shoal-app #session').innerText(), 'admin-token · admin');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-logged-in.png') });

  const [cookie, ...others] = (await context.cookies()).filter((c) => c.name === 'shoal_session');
  assert.ok(cookie && others.length === 0);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('shoal_session'), 'no script of the page can read it');

  // The live event stream rides on the cookie too (EventSource cannot send a header).
  await waitFor(async () => (await page.evaluate(() => fetch('/api/session').then((r) => r.status))) === 200, 30_000, 'the session');
  const stream = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const source = new EventSource('/api/events');
        source.addEventListener('ready', () => {
          source.close();
          resolve('ready');
        });
        source.onerror = () => resolve('error');
      }),
  );
  assert.equal(stream, 'ready');

  // Opened again, elsewhere, the used code logs no one in.
  const other = await (await browser!.newContext()).newPage();
  await other.goto(link);
  const refused = loginPage(other).locator('[role="alert"]');
  await refused.waitFor({ timeout: 30_000 });
  assert.match(await refused.innerText(), /login link is used up/);
  assert.equal(await dashboard(other).count(), 0);
  await other.context().close();

  await page.getByRole('button', { name: 'Log out' }).click();
  await loginPage(page).waitFor();
  assert.equal(await page.evaluate(() => fetch('/api/health').then((r) => r.status)), 401);
  await context.close();
});

test('without a login the dashboard shows the login page; a pasted read token can look but not administer', async () => {
  const { secret } = await cluster!.client.createToken({ role: 'read', name: 'viewer' });
  const page = await (await browser!.newContext()).newPage();
  await page.goto(cluster!.url);
  await loginPage(page).waitFor({ timeout: 30_000 });
  assert.equal(await dashboard(page).count(), 0);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-login.png') });

  await loginPage(page).getByLabel('API token').fill('shoal_wrong');
  await loginPage(page).getByRole('button', { name: 'Log in' }).click();
  await loginPage(page).locator('[role="alert"]').waitFor();
  await loginPage(page).getByLabel('API token').fill(secret);
  await loginPage(page).getByRole('button', { name: 'Log in' }).click();
  await page.locator('shoal-node-card[node-id="node1"]').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('shoal-app #session').innerText(), 'viewer · read');

  const scrub = await page.evaluate(() => fetch('/api/scrub', { method: 'POST' }).then((r) => r.status));
  assert.equal(scrub, 403, 'a read login may not scrub');
  await page.context().close();
});

test("a page of another origin cannot ride on the dashboard's cookie: its no-cors POST to drain a node is refused", async () => {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const { url } = await cluster!.client.createLoginLink();
  await page.goto(url);
  await dashboard(page).waitFor({ timeout: 30_000 });

  // Another port of the same host is another origin but the same site: SameSite lets the cookie
  // go along, so only the Origin check stands between this page and the gateway.
  const target = `${cluster!.url}/api/nodes/node1/drain`;
  const attacker = await serve(`<!doctype html><script>
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: 'x' })
      .then(() => (document.title = 'sent'), () => (document.title = 'failed'));
  </script>`);
  try {
    await page.goto(attacker.url);
    await page.waitForFunction(() => document.title !== '', undefined, { timeout: 30_000 });
    assert.equal(await page.title(), 'sent', 'the browser sent the forged request');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const node = (await cluster!.client.nodes()).find((n) => n.id === 'node1');
    assert.equal(node?.status, 'online', 'node1 was not drained');
  } finally {
    await new Promise((resolve) => attacker.server.close(resolve));
    await context.close();
  }
});

async function serve(html: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
