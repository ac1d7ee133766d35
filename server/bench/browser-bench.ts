import { createHash, type Hash } from 'node:crypto';
import { ShoalError } from '../../shared/errors.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../testing/cluster.ts';
import { invitedNodeUrl, onceNodesReady, startWebCluster } from '../testing/web-cluster.ts';
import { startHeadlessChromium, type HeadlessChromium } from './headless-chromium.ts';
import { cpuSeconds, perGiB } from './process-cpu.ts';
import { browserCeilings, type BrowserCeilings, type Ceiling } from './raw-browser-ceilings.ts';
import { timed } from './timed.ts';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

/**
 * Upload and download MB/s with browser tabs as the only storage: a gateway with no disk nodes,
 * two tabs, each a Chromium of its own with a real profile, R=2, so every byte goes to both tabs (over HTTP transfers
 * the tabs fetch, or their WebSockets where that fails) and into IndexedDB. The client is Node over
 * HTTP, as for the disk bench; bytes are verified. First, in the same run, what Chromium itself
 * moves over one WebSocket and over fetch: the ceilings the tabs' figures compare with. Chromium
 * runs without DevTools for both (headless-chromium.ts): the tabs are seen through the gateway.
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
  const tabs: HeadlessChromium[] = [];
  try {
    const ceilings = await browserCeilings(opts.fileMB * MiB);
    const capacity = `${Math.ceil(opts.fileMB * 1.1) + 64}MiB`;
    for (const url of await Promise.all([1, 2].map(() => invitedNodeUrl(cluster, `?capacity=${capacity}`)))) tabs.push(await startHeadlessChromium(url));
    const online = waitFor(async () => (await cluster.client.nodes()).filter((n) => n.status === 'online').length === 2, 60_000, 'the gateway to list both tabs online');
    await Promise.race([online, ...tabs.map((tab) => tab.failed)]);
    const totalBytes = opts.fileMB * MiB;
    await warmUp(cluster);
    const gatewayPid = cluster.gateway!.pid!;
    const cpuNow = (): Record<string, number> => ({ gateway: cpuSeconds(gatewayPid), client: cpuSeconds(process.pid), ...sumByPart(tabs.map((tab) => tab.cpu())) });
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
    await Promise.all(tabs.map((tab) => tab.close()));
    await cluster.stop();
  }
}

/** The two browsers' CPU-seconds, part by part. */
function sumByPart(browsers: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const cpu of browsers) for (const [part, seconds] of Object.entries(cpu)) sum[part] = (sum[part] ?? 0) + seconds;
  return sum;
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
 * The browser figures against Chromium's own. With R=2 each tab receives every byte of an upload,
 * so the upload's MB/s is what one tab took in, to compare with one WebSocket into Chromium; a
 * download reads each chunk from one tab, so its MB/s is what two tabs served together, to compare
 * with one WebSocket out of Chromium. The CPU figures are per GiB one tab moved: all of Chromium's
 * per GiB of the file, halved for an upload (two tabs took it in), whole for a download (the
 * two served it between them); below the ceiling's, a tab costs less than a bare socket.
 */
export function browserCeilingFigures(run: BrowserBenchResult): Record<string, number> {
  const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;
  const { webSocketIn, webSocketOut, fetchIn, fetchOut } = run.ceilings;
  const chromium = (cpu: Record<string, number>) => Object.entries(cpu).reduce((sum, [name, seconds]) => sum + (name.startsWith('chromium') ? seconds : 0), 0);
  const tabUploadCpu = chromium(run.cpuSecondsPerGiB.upload) / 2;
  const tabDownloadCpu = chromium(run.cpuSecondsPerGiB.download);
  const mbps = (ceiling: Ceiling) => round(ceiling.MBps, 1);
  const cpu = (ceiling: Ceiling) => round(ceiling.cpuPerGiB, 2);
  return {
    browserWsCeilingMBps: mbps(webSocketIn),
    browserWsOutCeilingMBps: mbps(webSocketOut),
    browserFetchCeilingMBps: mbps(fetchIn),
    browserFetchOutCeilingMBps: mbps(fetchOut),
    browserUploadVsWsCeiling: round(run.uploadMBps / webSocketIn.MBps, 3),
    browserDownloadVsWsCeiling: round(run.downloadMBps / webSocketOut.MBps, 3),
    browserWsCeilingCpuPerGiB: cpu(webSocketIn),
    browserWsOutCeilingCpuPerGiB: cpu(webSocketOut),
    browserFetchCeilingCpuPerGiB: cpu(fetchIn),
    browserFetchOutCeilingCpuPerGiB: cpu(fetchOut),
    browserTabUploadCpuPerGiB: round(tabUploadCpu, 2),
    browserTabDownloadCpuPerGiB: round(tabDownloadCpu, 2),
    browserTabUploadCpuVsWsCeiling: round(tabUploadCpu / webSocketIn.cpuPerGiB, 3),
    browserTabDownloadCpuVsWsCeiling: round(tabDownloadCpu / webSocketOut.cpuPerGiB, 3),
  };
}
