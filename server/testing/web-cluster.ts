import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, Page } from 'playwright';
import { ShoalClient } from '../../shared/api-client.ts';
import { ensureWebBuild } from '../cli/web-build.ts';
import { TestCluster, type ClusterOptions } from './cluster.ts';

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
export async function openNodeTab(context: BrowserContext, url: string, query = ''): Promise<NodeTab> {
  const page = await context.newPage();
  await page.goto(await invitedNodeUrl(url, query));
  return { page, id: await onlineNodeId(page) };
}

/** The node page's address with `query` and a single-use invite made through the API: what lets a new tab join. */
export async function invitedNodeUrl(url: string, query = ''): Promise<string> {
  const { token } = await new ShoalClient(url).createInvite({ label: 'test tab', maxUses: 1 });
  const target = new URL(`/node${query}`, url);
  target.searchParams.set('invite', token);
  return target.href;
}

export async function onlineNodeId(page: Page): Promise<string> {
  const host = page.locator('shoal-node-page[state="online"]');
  await host.waitFor({ timeout: 15_000 });
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
