import { createHash, type Hash } from 'node:crypto';
import { ShoalError } from '../../shared/errors.ts';
import { launchPersistentBrowser } from '../testing/browser.ts';
import { randomBytesSeeded, type TestCluster } from '../testing/cluster.ts';
import { onceNodesReady, openNodeTab, startWebCluster } from '../testing/web-cluster.ts';
import { chromiumCpu, chromiumProcesses } from './chromium-cpu.ts';
import { cpuSeconds, perGiB } from './process-cpu.ts';
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
export interface BrowserBenchResult {
  uploadMBps: number;
  downloadMBps: number;
  ceilings: BrowserCeilings;
  /** CPU-seconds per GiB of the file, per process (the gateway, this client) and per part of Chromium. */
  cpuSecondsPerGiB: { upload: Record<string, number>; download: Record<string, number> };
}

/** `cpuProfDir`: where the gateway writes a V8 CPU profile of the run. */
export async function benchBrowser(opts: { fileMB: number; cpuProfDir?: string }): Promise<BrowserBenchResult> {
  const cluster = await startWebCluster({ nodes: 0, execArgv: opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [] });
  const browser = await launchPersistentBrowser();
  try {
    const ceilings = await browserCeilings(browser.context, Math.min(opts.fileMB, 64) * MiB);
    const capacity = `${Math.ceil(opts.fileMB * 1.1) + 64}MiB`;
    await Promise.all([1, 2].map(() => openNodeTab(browser.context, cluster, `?capacity=${capacity}`)));
    const totalBytes = opts.fileMB * MiB;
    await warmUp(cluster);
    const chromium = chromiumProcesses();
    const gatewayPid = cluster.gateway!.pid!;
    const cpuNow = (): Record<string, number> => ({ gateway: cpuSeconds(gatewayPid), client: cpuSeconds(process.pid), ...chromiumCpu(chromium) });
    const spent = (before: Record<string, number>): Record<string, number> => {
      const after = cpuNow();
      return perGiB(Object.fromEntries(Object.entries(after).map(([name, seconds]) => [name, seconds - before[name]!])), totalBytes);
    };

    const beforeUpload = cpuNow();
    const upload = await timed(() =>
      onceNodesReady(async () => {
        const sent = createHash('sha256');
        const file = await cluster.client.upload('bench.bin', syntheticStream(totalBytes, sent));
        return { stored: file.sha256, sent: sent.digest('hex') };
      }),
    );
    const expected = upload.result.sent;
    if (upload.result.stored !== expected) throw new ShoalError('HASH_MISMATCH', `the gateway stored ${upload.result.stored}, the bench sent ${expected}`);
    const uploadCpu = spent(beforeUpload);

    const beforeDownload = cpuNow();

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
    const downloadCpu = spent(beforeDownload);
    return { uploadMBps: opts.fileMB / upload.seconds, downloadMBps: opts.fileMB / download.seconds, ceilings, cpuSecondsPerGiB: { upload: uploadCpu, download: downloadCpu } };
  } finally {
    await browser.close();
    await cluster.stop();
  }
}

/**
 * One small file up and down before anything is measured: the tabs' code compiled, their
 * databases open, the gateway's crypto workers started. Otherwise a 128 MiB run counts a second
 * or so of starting up in its cost per byte, which a long-lived node pays once. The file stays:
 * deleting it would set the collector to work during the runs measured.
 */
async function warmUp(cluster: TestCluster): Promise<void> {
  const warm = randomBytesSeeded(4 * CHUNK, 12);
  await onceNodesReady(() => cluster.client.upload('warm-up.bin', warm));
  await (await cluster.client.download('warm-up.bin')).arrayBuffer();
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
 * so the upload's MB/s is what one tab took in, to compare with one WebSocket's ceiling. The CPU
 * figures are per tab: what all of Chromium spent per GiB a tab took in (or served), halved, against
 * what it spent per GiB received over one WebSocket; below 1, a tab costs less than that socket.
 */
export function browserCeilingFigures(run: BrowserBenchResult): Record<string, number> {
  const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;
  const ratio = (n: number) => round(n / run.ceilings.webSocketMBps, 3);
  const chromiumPerTab = (cpu: Record<string, number>) => Object.entries(cpu).reduce((sum, [name, seconds]) => sum + (name.startsWith('chromium') ? seconds : 0), 0) / 2;
  return {
    browserWsCeilingMBps: round(run.ceilings.webSocketMBps, 1),
    browserFetchCeilingMBps: round(run.ceilings.fetchMBps, 1),
    browserUploadVsWsCeiling: ratio(run.uploadMBps),
    browserDownloadVsWsCeiling: ratio(run.downloadMBps),
    browserWsCeilingCpuPerGiB: round(run.ceilings.webSocketCpuPerGiB, 2),
    browserFetchCeilingCpuPerGiB: round(run.ceilings.fetchCpuPerGiB, 2),
    browserTabUploadCpuPerGiB: round(chromiumPerTab(run.cpuSecondsPerGiB.upload), 2),
    browserTabDownloadCpuPerGiB: round(chromiumPerTab(run.cpuSecondsPerGiB.download), 2),
    browserTabUploadCpuVsWsCeiling: round(chromiumPerTab(run.cpuSecondsPerGiB.upload) / run.ceilings.webSocketCpuPerGiB, 3),
  };
}
