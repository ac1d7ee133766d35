import { createHash, type Hash } from 'node:crypto';
import { ShoalError } from '../../shared/errors.ts';
import { launchPersistentBrowser } from '../testing/browser.ts';
import { randomBytesSeeded } from '../testing/cluster.ts';
import { onceNodesReady, openNodeTab, startWebCluster } from '../testing/web-cluster.ts';
import { browserCeilings, type BrowserCeilings } from './raw-browser-ceilings.ts';
import { timed } from './timed.ts';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

/**
 * Upload and download MB/s with browser tabs as the only storage: a gateway with no disk nodes,
 * two tabs in a real Chromium profile, R=2, so every byte goes to both tabs (over HTTP transfers
 * the tabs fetch, or their WebSockets where that fails) and into IndexedDB. The client is Node over
 * HTTP, as for the disk bench; bytes are verified. First, in the same browser, what Chromium
 * itself receives over one WebSocket and over fetch: the ceilings the tabs' figures compare with.
 */
export async function benchBrowser(opts: { fileMB: number }): Promise<{ uploadMBps: number; downloadMBps: number; ceilings: BrowserCeilings }> {
  const cluster = await startWebCluster({ nodes: 0 });
  const browser = await launchPersistentBrowser();
  try {
    const ceilings = await browserCeilings(browser.context, Math.min(opts.fileMB, 64) * MiB);
    const capacity = `${Math.ceil(opts.fileMB * 1.1) + 64}MiB`;
    await Promise.all([1, 2].map(() => openNodeTab(browser.context, cluster, `?capacity=${capacity}`)));
    const totalBytes = opts.fileMB * MiB;

    const upload = await timed(() =>
      onceNodesReady(async () => {
        const sent = createHash('sha256');
        const file = await cluster.client.upload('bench.bin', syntheticStream(totalBytes, sent));
        return { stored: file.sha256, sent: sent.digest('hex') };
      }),
    );
    const expected = upload.result.sent;
    if (upload.result.stored !== expected) throw new ShoalError('HASH_MISMATCH', `the gateway stored ${upload.result.stored}, the bench sent ${expected}`);

    const download = await timed(async () => {
      const res = await cluster.client.download('bench.bin');
      const received = createHash('sha256');
      let bytes = 0;
      const reader = res.body!.getReader();
      for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
        received.update(piece.value);
        bytes += piece.value.length;
      }
      return { bytes, sha256: received.digest('hex') };
    });
    if (download.result.bytes !== totalBytes || download.result.sha256 !== expected) {
      throw new ShoalError('HASH_MISMATCH', `downloaded ${download.result.bytes} bytes hashing to ${download.result.sha256}`);
    }
    return { uploadMBps: opts.fileMB / upload.seconds, downloadMBps: opts.fileMB / download.seconds, ceilings };
  } finally {
    await browser.close();
    await cluster.stop();
  }
}

/** Distinct 4 MiB chunks, so nothing dedupes, made by stamping each chunk's index into one random block. */
function syntheticStream(totalBytes: number, hash: Hash): ReadableStream<Uint8Array> {
  const block = randomBytesSeeded(CHUNK, 11);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const piece = block.slice(0, Math.min(CHUNK, totalBytes - sent));
      new DataView(piece.buffer).setUint32(0, sent / CHUNK);
      hash.update(piece);
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
}


/**
 * The browser figures against Chromium's own: with R=2 each tab receives every byte of an upload,
 * so the upload's MB/s is what one tab took in, to compare with one WebSocket's ceiling.
 */
export function browserCeilingFigures(run: { uploadMBps: number; downloadMBps: number; ceilings: BrowserCeilings }): Record<string, number> {
  const ratio = (n: number) => Math.round((n / run.ceilings.webSocketMBps) * 1000) / 1000;
  return {
    browserWsCeilingMBps: Math.round(run.ceilings.webSocketMBps * 10) / 10,
    browserFetchCeilingMBps: Math.round(run.ceilings.fetchMBps * 10) / 10,
    browserUploadVsWsCeiling: ratio(run.uploadMBps),
    browserDownloadVsWsCeiling: ratio(run.downloadMBps),
  };
}
