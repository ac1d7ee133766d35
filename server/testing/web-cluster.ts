import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, Page } from 'playwright';
import { ensureWebBuild } from '../cli/web-build.ts';
import { launchPersistentBrowser, type PersistentBrowser } from './browser.ts';
import { TestCluster, waitFor, type ClusterOptions } from './cluster.ts';

/** Pings every second, and offline once the last answer is three seconds old: a lost node shows soon. */
export const FAST_LIVENESS = { heartbeatMs: 1000, offlineAfterMs: 3000 };
/** The gateway flags for FAST_LIVENESS. */
export const FAST_HEARTBEAT = ['--heartbeat-ms', String(FAST_LIVENESS.heartbeatMs), '--offline-after-ms', String(FAST_LIVENESS.offlineAfterMs)];

/** A test cluster whose gateway serves the current web app. */
export async function startWebCluster(options: ClusterOptions): Promise<TestCluster> {
  await ensureWebBuild();
  return TestCluster.start(options);
}

export interface NodeTab {
  page: Page;
  id: string;
}

/** Opens the node page in a new tab with a fresh invite, as a link from the dashboard would, and waits until the tab is an online node. */
export async function openNodeTab(context: BrowserContext, cluster: TestCluster, query = ''): Promise<NodeTab> {
  const page = await context.newPage();
  await page.goto(await invitedNodeUrl(cluster, query));
  const id = await onlineNodeId(page);
  // The page is online at the welcome; the gateway lists it once its inventory is reconciled.
  await waitFor(async () => (await cluster.client.nodes()).some((n) => n.id === id && n.status !== 'offline'), 20_000, `the gateway to list tab ${id}`);
  return { page, id };
}

/**
 * The node page's address with `query` and a single-use invite made through the API: what lets a
 * new tab join. A new node, unless `query` says to adopt: `fresh=1` skips the page's offer to reuse
 * a store closed tabs left.
 */
export async function invitedNodeUrl(cluster: TestCluster, query = ''): Promise<string> {
  const { token } = await cluster.client.createInvite({ label: 'test tab', maxUses: 1 });
  const target = new URL(`/node${query}`, cluster.url);
  target.searchParams.set('invite', token);
  if (!target.searchParams.has('adopt')) target.searchParams.set('fresh', '1');
  return target.href;
}

/**
 * Logs `page`'s browser context in to the dashboard as the admin, as the link `shoal gateway`
 * prints does, and leaves it on `path`.
 */
export async function logIn(page: Page, cluster: TestCluster, path = '/'): Promise<void> {
  const { url } = await cluster.client.createLoginLink();
  await page.goto(url);
  await page.waitForURL((at) => at.pathname === '/' && at.hash === '', { timeout: 30_000 });
  if (path !== '/') await page.goto(new URL(path, cluster.url).href);
}

export async function onlineNodeId(page: Page): Promise<string> {
  const host = page.locator('shoal-node-page[state="online"]');
  await host.waitFor({ timeout: 30_000 });
  return (await host.getAttribute('node-id'))!;
}

/**
 * Runs `work` until the gateway stops refusing it for want of nodes. A node shows online as soon
 * as it says hello, but takes replicas only once the gateway has read its inventory a moment later.
 */
export async function onceNodesReady<T>(work: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > deadline || !/INSUFFICIENT_NODES|node\(s\) online/.test(`${(err as { code?: string }).code} ${(err as Error).message}`)) throw err;
      await sleep(100);
    }
  }
}

export interface TabCluster {
  readonly cluster: TestCluster;
  readonly browser: PersistentBrowser;
  readonly tabs: NodeTab[];
}

/**
 * For a test file: a gateway with no disk nodes and `count` node tabs in one browser with a real
 * profile, started before the file's tests and stopped after them.
 */
export function tabClusterForTests(count = 2): TabCluster {
  const handle = { tabs: [] as NodeTab[] } as { cluster: TestCluster; browser: PersistentBrowser; tabs: NodeTab[] };
  before(async () => {
    handle.cluster = await startWebCluster({ nodes: 0 });
    handle.browser = await launchPersistentBrowser();
    handle.tabs.push(...(await Promise.all(Array.from({ length: count }, () => openNodeTab(handle.browser.context, handle.cluster)))));
  });
  after(async () => {
    await handle.browser?.close();
    await handle.cluster?.stop();
  });
  return handle;
}
