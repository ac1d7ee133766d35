import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchPersistentBrowser, type PersistentBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, type TestCluster } from '../server/testing/cluster.ts';
import { type NodeTab, onceNodesReady, openNodeTab, startWebCluster } from '../server/testing/web-cluster.ts';
import { storedHashes, storedValues } from './web-app.ts';

// Issue 10: tabs hold only ciphertext, as disk nodes do.
const MARKER = Buffer.from('SHOAL-TAB-SECRET-MARKER-41d2');
const bytes = Buffer.from(randomBytesSeeded(6 * 1024 * 1024, 9));
for (const at of [0, 5000, 4 * 1024 * 1024 - 7, bytes.length - MARKER.length]) MARKER.copy(bytes, at);

let cluster: TestCluster | undefined;
let browser: PersistentBrowser | undefined;
let tabs: NodeTab[] = [];

before(async () => {
  cluster = await startWebCluster({ nodes: 0 });
  browser = await launchPersistentBrowser();
  tabs = await Promise.all([1, 2].map(() => openNodeTab(browser!.context, cluster!)));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

test("a marker uploaded is in no tab's IndexedDB, while the file reads back whole from the tabs", async () => {
  await onceNodesReady(() => cluster!.client.upload('secret.bin', bytes));
  for (const tab of tabs) {
    const chunks = (await storedHashes(tab)).length;
    assert.ok(chunks >= 2, `tab ${tab.id} holds the file's chunks`);
    const values = await storedValues(tab);
    assert.ok(values.length >= chunks, `${values.length} values read from tab ${tab.id}`);
    for (const value of values) assert.equal(Buffer.from(value).indexOf(MARKER), -1, `a value in tab ${tab.id}'s IndexedDB holds the marker`);
  }
  const back = Buffer.from(await (await cluster!.client.download('secret.bin')).arrayBuffer());
  assert.ok(back.equals(bytes));
  const range = await cluster!.client.download('secret.bin', { range: { start: 4 * 1024 * 1024 - 7, end: 4 * 1024 * 1024 + 30 } });
  assert.ok(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(4 * 1024 * 1024 - 7, 4 * 1024 * 1024 + 31)), 'a range across the chunk boundary');
});
