import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright';
import { chunkIds } from '../server/testing/chunk-ids.ts';
import type { TestCluster } from '../server/testing/cluster.ts';
import type { NodeTab } from '../server/testing/web-cluster.ts';

/** The chunk count the tab shows for itself. */
export async function tabChunkCount(page: Page): Promise<number> {
  return Number(await page.locator('shoal-node-page').getAttribute('chunks'));
}

/** The chunk hashes really in the tab's IndexedDB, read past the app: files' chunks, not their manifests. */
export async function storedHashes(tab: NodeTab): Promise<string[]> {
  const manifests = new Set(await storedManifests(tab));
  return (await storedKeys(tab, 'chunk')).filter((hash) => !manifests.has(hash));
}

/** The manifests of files and deletions in the tab's IndexedDB, which count among its chunks too. */
export function storedManifests(tab: NodeTab): Promise<string[]> {
  return storedKeys(tab, 'manifest');
}

function storedKeys(tab: NodeTab, kind: 'chunk' | 'manifest'): Promise<string[]> {
  return tab.page.evaluate(
    ([id, kind]) =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open(`shoal-node-${id}`);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const keys = db.transaction('chunks').objectStore('chunks').getAllKeys(IDBKeyRange.bound([kind], [kind, []]));
          keys.onerror = () => reject(keys.error);
          keys.onsuccess = () => {
            db.close();
            resolve(keys.result.map((key) => (key as string[])[1]!));
          };
        };
      }),
    [tab.id, kind] as const,
  );
}

/** Uploads through the files page's picker and waits for the page to call it stored. */
export async function uploadThroughPage(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  // The bytes go to the browser over its debugging pipe: tens of MiB take a while on a loaded machine.
  await page.locator('shoal-file-drop input[type="file"]').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) }, { timeout: 120_000 });
  const row = page.locator(`shoal-upload-list li[data-name="${name}"]`);
  await row.and(page.locator(':is([data-state="done"], [data-state="failed"])')).waitFor({ timeout: 120_000 });
  if ((await row.getAttribute('data-state')) === 'failed') throw new Error(`upload of ${name} failed: ${await row.innerText()}`);
}

/** Clicks the file's download button and answers with the SHA-256 of what the browser saved. */
export async function downloadThroughPage(page: Page, name: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`shoal-file-list li[data-name="${name}"] a.download`).click()]);
  const failure = await download.failure();
  if (failure) throw new Error(`download of ${name} failed: ${failure}`);
  return sha256(await readFile((await download.path())!));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The ids the gateway of `cluster` files each `chunkSize` slice under once sealed. */
export function chunkHashes(cluster: TestCluster, bytes: Uint8Array, chunkSize = 4 * 1024 * 1024): string[] {
  return chunkIds(cluster.dataDir, bytes, chunkSize);
}

/** Every value in the tab's IndexedDB, chunks and manifests alike, read past the app as an attacker with the disk would. */
export function storedValues(tab: NodeTab): Promise<Uint8Array[]> {
  return tab.page
    .evaluate(
      (id) =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open(`shoal-node-${id}`);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const values = db.transaction('chunks').objectStore('chunks').getAll();
            values.onerror = () => reject(values.error);
            values.onsuccess = async () => {
              db.close();
              // Chunks from 64 KiB up are kept as Blobs, smaller ones as bytes.
              const stored = await Promise.all(values.result.map(async (v) => (v instanceof Blob ? new Uint8Array(await v.arrayBuffer()) : v)));
              // Base64 out of the page: as arrays of numbers, megabytes took minutes to cross a loaded
              // machine. (No named function here: the test's compiler would wrap it in a helper the page lacks.)
              resolve(
                stored
                  .filter((v): v is Uint8Array => v instanceof Uint8Array)
                  .map((bytes) => {
                    let binary = '';
                    for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
                    return btoa(binary);
                  }),
              );
            };
          };
        }),
      tab.id,
    )
    .then((values) => values.map((v) => new Uint8Array(Buffer.from(v, 'base64'))));
}
