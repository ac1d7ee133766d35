import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesSeeded } from '../server/testing/cluster.ts';
import { tabClusterForTests } from '../server/testing/web-cluster.ts';
import { sha256 } from './web-app.ts';

// Issue 11, browser nodes: tabs move chunk bytes over HTTP (BULK_PATH) and keep the WebSocket for control.
const MiB = 1024 * 1024;

const tabbed = tabClusterForTests(2);

type Traffic = Record<'wsIn' | 'wsOut' | 'bulkIn' | 'bulkOut', number>;

/** Each tab's traffic as the gateway's /metrics counts it. */
async function traffic(): Promise<Map<string, Traffic>> {
  const text = await (await tabbed.cluster.fetch('/metrics')).text();
  const counts = new Map<string, Traffic>();
  for (const { id } of tabbed.tabs) counts.set(id, { wsIn: 0, wsOut: 0, bulkIn: 0, bulkOut: 0 });
  for (const [, path, node, direction, value] of text.matchAll(/^shoal_node_(ws|bulk)_bytes_total\{node="([^"]+)",direction="(in|out)"\} (\d+)/gm)) {
    const entry = counts.get(node!);
    if (entry) entry[`${path === 'ws' ? 'ws' : 'bulk'}${direction === 'in' ? 'In' : 'Out'}` as keyof Traffic] = Number(value);
  }
  return counts;
}

async function roundTrip(name: string, bytes: Uint8Array): Promise<void> {
  await tabbed.cluster.client.upload(name, bytes);
  const back = new Uint8Array(await (await tabbed.cluster.client.download(name)).arrayBuffer());
  assert.equal(sha256(back), sha256(bytes), `${name} read back different`);
}

test('two tabs store a file fetched over HTTP and serve it back by posting it: their WebSockets carry no chunk bytes', async () => {
  const bytes = randomBytesSeeded(12 * MiB, 31);
  await roundTrip('over-http.bin', bytes);
  const counts = await traffic();
  let served = 0;
  for (const [id, t] of counts) {
    assert.ok(t.bulkOut >= bytes.length, `tab ${id} fetched ${t.bulkOut} bytes of a file it holds a copy of`);
    assert.ok(t.wsOut < MiB, `${t.wsOut} bytes went to tab ${id} over its WebSocket`);
    assert.ok(t.wsIn < MiB, `${t.wsIn} bytes came from tab ${id} over its WebSocket`);
    served += t.bulkIn;
  }
  assert.ok(served >= bytes.length, `the tabs posted ${served} bytes for a download of ${bytes.length}`);
});

test('when the tabs cannot reach the HTTP path, chunks go over their WebSockets and the file still round-trips', async () => {
  const before = await traffic();
  await tabbed.browser.context.route('**/ws-bulk/**', (route) => route.abort());
  try {
    const bytes = randomBytesSeeded(8 * MiB, 32);
    await roundTrip('over-frames.bin', bytes);
    const now = await traffic();
    for (const [id, t] of now) {
      assert.ok(t.wsOut - before.get(id)!.wsOut >= bytes.length, `tab ${id} was sent ${t.wsOut - before.get(id)!.wsOut} bytes in frames after its fetch failed`);
      assert.equal(t.bulkOut, before.get(id)!.bulkOut, `tab ${id} fetched over a path that was cut`);
    }
  } finally {
    await tabbed.browser.context.unroute('**/ws-bulk/**');
  }
});
