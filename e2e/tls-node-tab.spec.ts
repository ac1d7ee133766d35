import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright';
import { LAUNCH_OPTIONS } from '../server/testing/browser.ts';
import { waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { makeCertificates, spkiHash } from '../server/testing/tls-certs.ts';
import { invitedNodeUrl, logIn, onlineNodeId, startWebCluster } from '../server/testing/web-cluster.ts';

// A tab on another machine can be a node only on a secure page: here the gateway serves HTTPS with
// a certificate from a CA made in the test, and a tab joins over https:// and wss://. Chromium is
// told to accept that one key (--ignore-certificate-errors-spki-list), the narrowest way to trust
// a test CA without root access to the system store; every other certificate error still fails.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));

let dir = '';
let cluster: TestCluster | undefined;
let browser: Browser | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-tls-tab-'));
  const certs = makeCertificates(dir);
  cluster = await startWebCluster({ nodes: 1, tls: certs });
  browser = await chromium.launch({ ...LAUNCH_OPTIONS, args: [...(LAUNCH_OPTIONS.args ?? []), `--ignore-certificate-errors-spki-list=${spkiHash(certs.cert)}`] });
});
after(async () => {
  await browser?.close();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a tab joins as a node over https:// and wss://, with the dashboard under its CSP', async () => {
  const context = await browser!.newContext();
  const violations: string[] = [];
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const page = await context.newPage();
  await page.goto(await invitedNodeUrl(cluster!));
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
  const id = await onlineNodeId(page);
  await waitFor(async () => (await cluster!.client.nodes()).some((n) => n.id === id && n.kind === 'browser' && n.status === 'online'), 30_000, 'the tab online');

  const dashboard = await context.newPage();
  await logIn(dashboard, cluster!);
  await dashboard.getByText(id).first().waitFor({ timeout: 30_000 });
  await dashboard.screenshot({ path: join(ARTIFACTS, 'tls-dashboard.png') });
  assert.deepEqual(violations, [], 'the web app runs under its Content-Security-Policy');
});
