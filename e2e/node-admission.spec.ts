import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright';
import { WebSocket as NodeWebSocket } from 'ws';
import { NODE_WS_PATH } from '../shared/protocol.ts';
import { launchBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { logIn, onceNodesReady, onlineNodeId, startWebCluster } from '../server/testing/web-cluster.ts';
import { chunkHashes, storedHashes } from './web-app.ts';

// Node admission: a tab joins only through an invite link, and only the gateway's own pages (and
// origins it is told to trust) may open node sockets.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
const bytes = randomBytesSeeded(8 * 1024 * 1024, 21);

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
/** A site elsewhere: a page of it must not be able to make its visitors' browsers nodes. */
let elsewhere: Server | undefined;
let elsewhereOrigin = '';

before(async () => {
  elsewhere = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title><p>another site'));
  await new Promise<void>((resolve) => elsewhere!.listen(0, '127.0.0.1', resolve));
  elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  // One disk node and R=2: a tab that joins holds a copy of every chunk.
  cluster = await startWebCluster({ nodes: 1 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  elsewhere?.close();
});

/** Opens `url` in a browser context of its own, as somebody else's browser would. */
async function openInOtherBrowser(url: string): Promise<Page> {
  const page = await (await browser!.newContext()).newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.goto(url);
  return page;
}

async function browserNodeIds(): Promise<string[]> {
  return (await cluster!.client.nodes()).filter((n) => n.kind === 'browser').map((n) => n.id);
}

/** Opens a link the gateway must turn down; answers with what the page says, once no node was registered. */
async function refusal(url: string, screenshot: string): Promise<string> {
  const before = await browserNodeIds();
  const page = await openInOtherBrowser(url);
  await page.locator('shoal-node-page[state="rejected"]').waitFor({ timeout: 30_000 });
  assert.deepEqual(await browserNodeIds(), before, 'no node was registered');
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
  const text = await page.locator('shoal-node-page #refusal').innerText();
  await page.context().close();
  return text;
}

test('a tab that opens an invite link becomes an online node, stores chunks, and drops the invite from its address', async () => {
  const { url, invite } = await cluster!.client.createInvite({ label: 'first tab', maxUses: 1 });
  const page = await openInOtherBrowser(url);
  const id = await onlineNodeId(page);
  assert.match(id, /^tab-/);
  assert.equal(new URL(page.url()).searchParams.get('invite'), null, 'a reload will not bring the invite again');

  await onceNodesReady(() => cluster!.client.upload('joined.bin', bytes));
  assert.deepEqual((await storedHashes({ page, id })).sort(), chunkHashes(cluster!, bytes).sort());
  const used = (await cluster!.client.invites()).find((i) => i.id === invite.id);
  assert.deepEqual([used?.uses, used?.active], [1, false], 'the single-use invite is used up');

  await page.reload();
  assert.equal(await onlineNodeId(page), id, 'a reload is the same node, with no invite needed');
});

test('a revoked invite: the tab is refused with the reason shown, and no node is registered', async () => {
  const { url, invite } = await cluster!.client.createInvite({ label: 'revoked' });
  await cluster!.client.revokeInvite(invite.id);
  const text = await refusal(url, 'node-refused.png');
  assert.match(text, /The invite link is not valid: it was revoked, it expired, or it has been used up/);
  assert.match(text, /the join credential is not valid/, "the gateway's own reason is shown beneath");
  assert.match(text, /open a new invite link from the dashboard/);
});

test('an expired invite: the tab is refused with the reason shown, and no node is registered', async () => {
  const { url } = await cluster!.client.createInvite({ label: 'expired', expiresInMs: 300 });
  await sleep(600);
  assert.match(await refusal(url, 'node-refused-expired.png'), /The invite link is not valid/);
});

test('without an invite, /node starts no node and says how a tab joins', async () => {
  const before = await browserNodeIds();
  const page = await openInOtherBrowser(`${cluster!.url}/node`);
  await page.locator('shoal-node-page[state="uninvited"]').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('shoal-node-page #join-help').innerText(), /Add this browser as a node[^]*shoal invite create/);
  await page.screenshot({ path: join(ARTIFACTS, 'node-uninvited.png'), fullPage: true });
  assert.deepEqual(await browserNodeIds(), before);
  await page.context().close();
});

function nodeSocketUrl(gatewayUrl: string): string {
  return new URL(NODE_WS_PATH, gatewayUrl.replace(/^http/, 'ws')).href;
}

/** Whether a page can open a node socket to `gatewayUrl`: 'open', or 'failed' when the upgrade is refused. */
function nodeSocketFrom(page: Page, gatewayUrl: string): Promise<'open' | 'failed'> {
  return page.evaluate(
    (href) =>
      new Promise<'open' | 'failed'>((resolve) => {
        const socket = new WebSocket(href);
        socket.onopen = () => {
          socket.close();
          resolve('open');
        };
        socket.onerror = () => resolve('failed');
      }),
    nodeSocketUrl(gatewayUrl),
  );
}

/** The HTTP status the gateway answers a node socket's upgrade with when a page of `origin` asks. */
function upgradeStatus(gatewayUrl: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new NodeWebSocket(nodeSocketUrl(gatewayUrl), { origin });
    socket.on('open', () => {
      socket.terminate();
      resolve(101);
    });
    socket.on('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    socket.on('error', reject);
  });
}

test("a page of another origin cannot open /ws/node (403), a page of the gateway's own can, and --allowed-origins admits the other", async () => {
  const before = await cluster!.client.nodes();
  const page = await openInOtherBrowser(elsewhereOrigin);
  assert.equal(await nodeSocketFrom(page, cluster!.url), 'failed');
  assert.equal(await upgradeStatus(cluster!.url, elsewhereOrigin), 403);
  assert.deepEqual((await cluster!.client.nodes()).map((n) => n.id), before.map((n) => n.id), 'no node was registered');

  await page.goto(cluster!.url);
  assert.equal(await nodeSocketFrom(page, cluster!.url), 'open');

  const trusting = await startWebCluster({ nodes: 0, gatewayArgs: ['--allowed-origins', elsewhereOrigin] });
  try {
    await page.goto(elsewhereOrigin);
    assert.equal(await nodeSocketFrom(page, trusting.url), 'open');
    assert.equal(await upgradeStatus(trusting.url, elsewhereOrigin), 101);
  } finally {
    await page.context().close();
    await trusting.stop();
  }
});

test('the dashboard invites panel makes an invite with a link to copy, lists every invite, and revokes one', async () => {
  const context = await browser!.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: cluster!.url });
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 1000 });
  await logIn(page, cluster!);
  const panel = page.locator('shoal-invites-panel');
  // What the tests above left: one invite of each kind that no longer works.
  for (const status of ['used up', 'revoked', 'expired']) await panel.locator(`li[data-status="${status}"]`).first().waitFor();

  await panel.getByLabel('Label', { exact: true }).fill('kitchen laptop');
  await panel.getByLabel('Expires').selectOption({ label: '1 day' });
  await panel.getByLabel('Uses').fill('2');
  await panel.getByRole('button', { name: 'Create invite' }).click();
  const link = panel.locator('#invite-url');
  await link.waitFor();
  const url = await link.inputValue();
  assert.match(url, /\/node\?invite=inv_/);
  await panel.getByRole('button', { name: 'Copy invite link' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);

  const made = (await cluster!.client.invites()).find((i) => i.label === 'kitchen laptop')!;
  assert.equal(made.maxUses, 2);
  assert.ok(Math.abs(Date.parse(made.expiresAt!) - Date.parse(made.createdAt) - 86_400_000) < 1000, 'it expires in a day');
  const row = panel.locator(`li[data-id="${made.id}"]`);
  assert.equal(await row.getAttribute('data-status'), 'active');
  assert.match(await row.innerText(), /0 of 2 uses/);

  // Another browser opens the link; the panel counts the use without a reload.
  const joined = await openInOtherBrowser(url);
  await onlineNodeId(joined);
  await waitFor(async () => /1 of 2 uses/.test(await row.innerText()), 30_000, 'the panel to count the use');
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-invites.png'), fullPage: true });
  await panel.screenshot({ path: join(ARTIFACTS, 'invites-panel.png') });

  const revoke = row.getByRole('button', { name: `Revoke invite kitchen laptop (${made.id})` });
  await revoke.click();
  await row.getByRole('button', { name: /^Really revoke\? invite kitchen laptop/ }).click();
  await row.and(page.locator('[data-status="revoked"]')).waitFor({ timeout: 30_000 });
  assert.notEqual((await cluster!.client.invites()).find((i) => i.id === made.id)?.revokedAt, null);
  assert.ok((await browserNodeIds()).includes(await joined.locator('shoal-node-page').getAttribute('node-id') ?? ''), 'the tab it enrolled stays a node');
  await joined.context().close();
  await context.close();
});
