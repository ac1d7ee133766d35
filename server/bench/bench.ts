import { readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { TestCluster } from '../testing/cluster.ts';
import { rawWebSocketMBps } from './raw-ws.ts';
import { timed } from './timed.ts';

/**
 * `npm run bench [-- --quick] [-- --browser]`: upload and download MB/s through a real gateway with
 * three disk nodes (R=2), against the raw WebSocket ceiling measured in the same run, and the
 * gateway's peak RSS. `-- --recover [--files 10000] [--kb 16]`: what rebuilding the metadata of that
 * many files from the nodes takes instead. The last line is one JSON object for tools to read.
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    browser: { type: 'boolean' },
    mb: { type: 'string' },
    recover: { type: 'boolean' },
    files: { type: 'string' },
    kb: { type: 'string' },
  },
});
if (values.recover) {
  const { benchRecovery } = await import('./recover-bench.ts');
  const files = Number(values.files ?? 10_000);
  console.log(`shoal bench --recover: ${files} files, 3 disk nodes, R=2, metadata.db deleted, then shoal recover`);
  const result = await benchRecovery({ files, fileBytes: Number(values.kb ?? 16) * 1024 });
  console.log(`  recovery (nodes in, manifests read, files recorded, copies read back)  ${result.recoverSeconds.toFixed(1)} s`);
  console.log(`  waiting for the nodes to reconnect first                                ${result.waitForNodesSeconds.toFixed(1)} s`);
  console.log(JSON.stringify(result));
  process.exit(0);
}
const fileMB = Number(values.mb ?? (values.quick ? 256 : 1024));
const MB = 1024 * 1024;
const CHUNK = 4 * MB;

/** A body of distinct 4 MiB chunks (so nothing dedupes) made from one random block, streamed without holding the file. */
function* syntheticBody(totalBytes: number): Generator<Buffer> {
  const block = randomFillSync(Buffer.alloc(16 * CHUNK));
  for (let index = 0, sent = 0; sent < totalBytes; index++) {
    const size = Math.min(CHUNK, totalBytes - sent);
    const piece = Buffer.from(block.subarray((index % 16) * CHUNK, (index % 16) * CHUNK + size));
    piece.writeUInt32BE(index, 0);
    sent += size;
    yield piece;
  }
}

/**
 * The bench's client is plain node:http, as light as curl, so the figures measure Shoal rather
 * than a heavy client competing for the same two cores.
 */
function httpTransfer(method: 'PUT' | 'GET', url: string, body?: Iterable<Buffer>): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let bytes = 0;
      let text = '';
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (method === 'PUT') text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) pipeline(Readable.from(body), req).catch(reject);
    else req.end();
  });
}

function peakRssMB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function benchDisk(totalBytes: number) {
  const cluster = await TestCluster.start({ nodes: 3, replicas: 2, storage: `${Math.ceil((totalBytes * 2) / 1e9) + 1}GB` });
  try {
    const url = cluster.client.fileUrl('bench.bin');
    const upload = await timed(() => httpTransfer('PUT', url, syntheticBody(totalBytes)));
    if (upload.result.status !== 201) throw new Error(`upload failed: ${upload.result.status} ${upload.result.text}`);
    const download = await timed(() => httpTransfer('GET', url));
    if (download.result.bytes !== totalBytes) throw new Error(`downloaded ${download.result.bytes} bytes, expected ${totalBytes}`);
    return {
      uploadMBps: totalBytes / 1e6 / upload.seconds,
      downloadMBps: totalBytes / 1e6 / download.seconds,
      gatewayPeakRssMB: peakRssMB(cluster.gateway!.pid!),
    };
  } finally {
    await cluster.stop();
  }
}

const totalBytes = fileMB * MB;
console.log(`shoal bench: ${fileMB} MiB file, 3 disk nodes, R=2, 4 MiB chunks`);
const rawWsMBps = await rawWebSocketMBps(Math.min(totalBytes, 1024 * MB));
const disk = await benchDisk(totalBytes);
const round = (n: number) => Math.round(n * 10) / 10;
const result: Record<string, number> = {
  rawWsMBps: round(rawWsMBps),
  uploadMBps: round(disk.uploadMBps),
  downloadMBps: round(disk.downloadMBps),
  uploadRatio: Math.round((disk.uploadMBps / rawWsMBps) * 1000) / 1000,
  downloadRatio: Math.round((disk.downloadMBps / rawWsMBps) * 1000) / 1000,
  gatewayPeakRssMB: round(disk.gatewayPeakRssMB),
  fileMB,
};
const rows: Array<[string, string]> = [
  ['raw ws, 4 MiB frames, 2 processes', `${result.rawWsMBps} MB/s`],
  ['upload (PUT), 3 disk nodes, R=2', `${result.uploadMBps} MB/s  (ratio ${result.uploadRatio}, target >= 0.25)`],
  ['download (GET)', `${result.downloadMBps} MB/s  (ratio ${result.downloadRatio}, target >= 0.4)`],
  ['gateway peak RSS', `${result.gatewayPeakRssMB} MB  (target < 200)`],
];
if (values.browser) {
  const { benchBrowser } = await import('./browser-bench.ts');
  const browserMB = Math.min(fileMB, 128);
  const browser = await benchBrowser({ fileMB: browserMB });
  Object.assign(result, {
    browserFileMB: browserMB,
    browserUploadMBps: round(browser.uploadMBps),
    browserDownloadMBps: round(browser.downloadMBps),
    browserUploadVsDisk: Math.round((browser.uploadMBps / disk.uploadMBps) * 1000) / 1000,
    browserDownloadVsDisk: Math.round((browser.downloadMBps / disk.downloadMBps) * 1000) / 1000,
  });
  rows.push(
    [`upload to 2 browser tabs, R=2 (${browserMB} MiB)`, `${result.browserUploadMBps} MB/s  (${result.browserUploadVsDisk} of disk)`],
    ['download from browser tabs', `${result.browserDownloadMBps} MB/s  (${result.browserDownloadVsDisk} of disk)`],
  );
}
for (const [what, figure] of rows) console.log(`  ${what.padEnd(44)} ${figure}`);
console.log(JSON.stringify(result));
