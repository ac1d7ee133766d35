import { readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { TestCluster } from '../testing/cluster.ts';
import { measureCpu, perGiB } from './process-cpu.ts';
import { rawWebSocketMBps } from './raw-ws.ts';
import { benchSmallFiles, type SmallFilesResult } from './small-files.ts';
import { benchS3 } from './s3-bench.ts';
import { lightTransfer } from './light-http.ts';
import { timed } from './timed.ts';

/**
 * `npm run bench [-- --quick] [-- --browser]`: upload and download MB/s through a real gateway with
 * three disk nodes (R=2), against the raw WebSocket ceiling measured in the same run, and the
 * gateway's peak RSS; the CPU-seconds per GiB each process (gateway, each node, this client) spent
 * on each; then 1 KiB PUT/s and GET/s at 16 concurrent (`--small N` objects, 0 skips), with each
 * process's CPU-ms per request; the gateway keeps small chunks in memory (`--read-cache 64MiB`), so
 * those GETs are answered without a node. `--by-size`
 * adds the cost per byte of a 256 MiB and a 1 GiB upload side by side; `--crowd 100000`
 * first stores that many 1 KiB files through the API, then uploads again, so cost per byte with
 * and without them compares. `--cpu-prof DIR` writes a V8 CPU profile of the gateway and each node
 * there (open in Chrome DevTools). `-- --recover [--files 10000] [--kb 16]`: what rebuilding the metadata
 * of that many files from the nodes takes instead. `-- --listing [--files 1000000] [--sqlite]`: pages of the
 * file listing and /api/health through a gateway over that many file records in PostgreSQL (or SQLite).
 * `-- --scale [--chunks 10000000] [--nodes 1000] [--fail 10] [--add 50] [--replicas 2]`: placement, repair
 * and rebalancing of that many chunks on simulated nodes (scale-simulation.ts). The last line is one JSON object for tools to read.
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    browser: { type: 'boolean' },
    mb: { type: 'string' },
    recover: { type: 'boolean' },
    listing: { type: 'boolean' },
    sqlite: { type: 'boolean' },
    files: { type: 'string' },
    kb: { type: 'string' },
    small: { type: 'string' },
    'by-size': { type: 'boolean' },
    crowd: { type: 'string' },
    scale: { type: 'boolean' },
    chunks: { type: 'string' },
    nodes: { type: 'string' },
    fail: { type: 'string' },
    add: { type: 'string' },
    replicas: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
if (values.scale) {
  const { simulateScale } = await import('./scale-simulation.ts');
  const options = { chunks: Number(values.chunks ?? 10_000_000), nodes: Number(values.nodes ?? 1000), fail: Number(values.fail ?? 10), add: Number(values.add ?? 50), replicas: Number(values.replicas ?? 2), seed: 1 };
  console.log(`shoal bench --scale: ${options.chunks} chunks on ${options.nodes} simulated disk nodes of 32 to 512 GiB, R=${options.replicas}; ${options.fail} fail, then ${options.add} join`);
  console.log(JSON.stringify(simulateScale(options, (line) => console.log(line))));
  process.exit(0);
}
if (values.listing) {
  const { benchListing } = await import('./listing-bench.ts');
  const files = Number(values.files ?? 1_000_000);
  const store = values.sqlite ? 'sqlite' : 'postgres';
  console.log(`shoal bench --listing: ${files} file records in ${store}, then requests through a gateway (ms: first, median of 3 after it)`);
  const result = await benchListing({ files, store });
  console.log(`  records loaded in ${result.loadSeconds} s`);
  for (const [label, { cold, median }] of Object.entries(result.ms)) console.log(`  ${label.padEnd(36)} ${String(cold).padStart(8)} ${String(median).padStart(8)}`);
  const { sweep } = result;
  console.log(`  repair sweep, one node offline: ${sweep.chunks} chunks in pages, ${sweep.seconds} s, heap +${sweep.peakHeapMB} MB at most (listChunks(): +${sweep.listChunksHeapMB} MB)`);
  console.log(JSON.stringify(result));
  process.exit(0);
}
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

/**
 * A body of distinct 4 MiB chunks (so nothing dedupes) cut from one random block, streamed without
 * holding the file. Each piece is a slice of the block numbered in place: lightTransfer has written
 * a piece out before it asks for the next, so a slice's last use is gone when it comes round again.
 */
function* syntheticBody(totalBytes: number): Generator<Buffer> {
  const block = randomFillSync(Buffer.alloc(16 * CHUNK));
  for (let index = 0, sent = 0; sent < totalBytes; index++) {
    const size = Math.min(CHUNK, totalBytes - sent);
    const piece = block.subarray((index % 16) * CHUNK, (index % 16) * CHUNK + size);
    piece.writeUInt32BE(index, 0);
    sent += size;
    yield piece;
  }
}

function peakRssMB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

type Cpu = Record<string, number>;

/** The processes whose CPU time a run accounts for: the gateway, each node, and this client. */
function clusterPids(cluster: TestCluster): Record<string, number> {
  return { gateway: cluster.gateway!.pid!, ...Object.fromEntries([...cluster.nodes].map(([id, child]) => [id, child.pid!])), client: process.pid };
}

function withTotal(cpu: Cpu): Cpu {
  return { ...cpu, total: Object.values(cpu).reduce((a, b) => a + b, 0) };
}

/** One upload and its download of `totalBytes`, each with its MB/s and every process's CPU-seconds. */
async function transfer(cluster: TestCluster, name: string, totalBytes: number) {
  const url = cluster.client.fileUrl(name);
  const pids = clusterPids(cluster);
  const upload = await measureCpu(pids, () => timed(() => lightTransfer('PUT', url, cluster.client.authHeaders(), syntheticBody(totalBytes))));
  if (upload.result.result.status !== 201) throw new Error(`upload failed: ${upload.result.result.status} ${upload.result.result.text}`);
  const download = await measureCpu(pids, () => timed(() => lightTransfer('GET', url, cluster.client.authHeaders())));
  if (download.result.result.bytes !== totalBytes) throw new Error(`downloaded ${download.result.result.bytes} bytes, expected ${totalBytes}`);
  return {
    uploadMBps: totalBytes / 1e6 / upload.result.seconds,
    downloadMBps: totalBytes / 1e6 / download.result.seconds,
    upload: perGiB(withTotal(upload.cpu), totalBytes),
    download: perGiB(withTotal(download.cpu), totalBytes),
  };
}

/** Stores `count` distinct 1 KiB files through the API, 32 at once (the most uploads a gateway takes by default): a cluster that already holds many files. */
async function seedFiles(cluster: TestCluster, count: number): Promise<number> {
  const seeded = await timed(() => benchSmallFiles({ url: cluster.url, headers: cluster.client.authHeaders(), count, size: 1024, concurrency: 32, prefix: 'seed', putOnly: true }));
  return seeded.seconds;
}

async function benchDisk(totalBytes: number) {
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  // The nodes' own default layout (TestCluster's nodes keep every chunk a file, for tests that damage one).
  const cluster = await TestCluster.start({ nodes: 3, replicas: 2, execArgv: profile, gatewayArgs: ['--s3-port', '0', '--read-cache', '64MiB'], nodeArgs: ['--pack-below', '64KiB'], storage: `${Math.ceil((totalBytes * 2 * (values['by-size'] ? 3 : 1)) / 1e9) + 2}GB` });
  try {
    const main = await transfer(cluster, 'bench.bin', totalBytes);
    const gatewayPeakRssMB = peakRssMB(cluster.gateway!.pid!);
    const smallCount = Number(values.small ?? 2000);
    let small: (SmallFilesResult & { cpu: Cpu }) | null = null;
    if (smallCount > 0) {
      const run = await measureCpu(clusterPids(cluster), () => benchSmallFiles({ url: cluster.url, headers: cluster.client.authHeaders(), count: smallCount, size: 1024, concurrency: 16, prefix: 'small', pids: clusterPids(cluster) }));
      // Per 1,000 files, PUT and GET together.
      small = { ...run.result, cpu: Object.fromEntries(Object.entries(withTotal(run.cpu)).map(([k, v]) => [k, Math.round((v / smallCount) * 1000 * 100) / 100])) };
    }
    const scale = values['by-size']
      ? { small: await transfer(cluster, 'scale-256.bin', 256 * MB), large: await transfer(cluster, 'scale-1024.bin', 1024 * MB) }
      : null;
    const scaleFiles = Number(values.crowd ?? 0);
    const crowded = scaleFiles > 0 ? { seedSeconds: await seedFiles(cluster, scaleFiles), run: await transfer(cluster, 'crowded.bin', totalBytes) } : null;
    const s3 = await benchS3(cluster, 256 * MB, smallCount > 0 ? smallCount : 500);
    return { ...main, gatewayPeakRssMB, small, scale, crowded, scaleFiles, s3 };
  } finally {
    await cluster.stop();
  }
}

const totalBytes = fileMB * MB;
console.log(`shoal bench: ${fileMB} MiB file, 3 disk nodes, R=2, 4 MiB chunks`);
const rawWsMBps = await rawWebSocketMBps(Math.min(totalBytes, 1024 * MB));
const disk = await benchDisk(totalBytes);
const round = (n: number) => Math.round(n * 10) / 10;
/** { gateway: { upload, download }, node1: ..., client: ..., total: ... }: CPU-seconds per GiB of file. */
const byProcess = (run: { upload: Cpu; download: Cpu }) =>
  Object.fromEntries(Object.keys(run.upload).map((name) => [name, { upload: run.upload[name]!, download: run.download[name]! }]));
const cpuLine = (cpu: Cpu) => Object.entries(cpu).map(([name, s]) => `${name} ${Number(s.toFixed(2))}`).join(', ');
const result: Record<string, unknown> = {
  rawWsMBps: round(rawWsMBps),
  uploadMBps: round(disk.uploadMBps),
  downloadMBps: round(disk.downloadMBps),
  uploadRatio: Math.round((disk.uploadMBps / rawWsMBps) * 1000) / 1000,
  downloadRatio: Math.round((disk.downloadMBps / rawWsMBps) * 1000) / 1000,
  gatewayPeakRssMB: round(disk.gatewayPeakRssMB),
  fileMB,
  cpuSecondsPerGiB: byProcess(disk),
};
const rows: Array<[string, string]> = [
  ['raw ws, 4 MiB frames, 2 processes', `${result.rawWsMBps} MB/s`],
  ['upload (PUT), 3 disk nodes, R=2', `${result.uploadMBps} MB/s  (ratio ${result.uploadRatio}, target >= 0.25)`],
  ['  CPU-s per GiB', cpuLine(disk.upload)],
  ['download (GET)', `${result.downloadMBps} MB/s  (ratio ${result.downloadRatio}, target >= 0.4)`],
  ['  CPU-s per GiB', cpuLine(disk.download)],
  ['gateway peak RSS', `${result.gatewayPeakRssMB} MB  (target < 200)`],
];
if (disk.small) {
  const { cpu, ...small } = disk.small;
  Object.assign(result, { smallPutPerS: small.putPerS, smallGetPerS: small.getPerS, small: { ...small, cpuSecondsPer1000: cpu } });
  rows.push(
    ['1 KiB PUT, 16 concurrent, R=2', `${small.putPerS}/s  (p50 ${small.putP50ms} ms, p99 ${small.putP99ms} ms; target >= 2000)`],
    ['1 KiB GET, 16 concurrent', `${small.getPerS}/s  (p50 ${small.getP50ms} ms, p99 ${small.getP99ms} ms; target >= 5000)`],
    ['  CPU-s per 1,000 PUT+GET', cpuLine(cpu)],
    ['  CPU-ms per PUT', cpuLine(withTotal(small.putCpuMs ?? {}))],
    ['  CPU-ms per GET', cpuLine(withTotal(small.getCpuMs ?? {}))],
  );
}
Object.assign(result, disk.s3);
rows.push(
  ['S3 PUT / GET (@aws-sdk/client-s3, 256 MiB)', `${disk.s3.s3PutMBps} / ${disk.s3.s3GetMBps} MB/s`],
  ['S3 1 KiB PUT / GET, 16 concurrent', `${disk.s3.s3SmallPutPerS} / ${disk.s3.s3SmallGetPerS} per s`],
);
if (disk.scale) {
  result.scale = { '256MiB': byProcess(disk.scale.small), '1GiB': byProcess(disk.scale.large) };
  rows.push(
    ['scale: 256 MiB upload CPU-s per GiB', cpuLine(disk.scale.small.upload)],
    ['scale: 1 GiB upload CPU-s per GiB', cpuLine(disk.scale.large.upload)],
    ['scale: 256 MiB download CPU-s per GiB', cpuLine(disk.scale.small.download)],
    ['scale: 1 GiB download CPU-s per GiB', cpuLine(disk.scale.large.download)],
  );
}
if (disk.crowded) {
  result.crowded = { files: disk.scaleFiles, seedSeconds: round(disk.crowded.seedSeconds), uploadMBps: round(disk.crowded.run.uploadMBps), downloadMBps: round(disk.crowded.run.downloadMBps), cpuSecondsPerGiB: byProcess(disk.crowded.run) };
  rows.push(
    [`${disk.scaleFiles} files stored first`, `in ${round(disk.crowded.seedSeconds)} s through the API (1 KiB each, 32 at once)`],
    ['  then upload CPU-s per GiB', cpuLine(disk.crowded.run.upload)],
    ['  then download CPU-s per GiB', cpuLine(disk.crowded.run.download)],
  );
}
if (values.browser) {
  const { benchBrowser, browserCeilingFigures } = await import('./browser-bench.ts');
  const browserMB = Math.min(fileMB, 128);
  const browser = await benchBrowser({ fileMB: browserMB, cpuProfDir: values['cpu-prof'] });
  Object.assign(result, {
    browserFileMB: browserMB,
    browserUploadMBps: round(browser.uploadMBps),
    browserDownloadMBps: round(browser.downloadMBps),
    browserUploadVsDisk: Math.round((browser.uploadMBps / disk.uploadMBps) * 1000) / 1000,
    browserDownloadVsDisk: Math.round((browser.downloadMBps / disk.downloadMBps) * 1000) / 1000,
    ...browserCeilingFigures(browser),
    browserCpuSecondsPerGiB: browser.cpuSecondsPerGiB,
  });
  rows.push(
    ['Chromium in over one WebSocket / fetch (raw)', `${result.browserWsCeilingMBps} / ${result.browserFetchCeilingMBps} MB/s`],
    ['  Chromium CPU-s per GiB received', `${result.browserWsCeilingCpuPerGiB} / ${result.browserFetchCeilingCpuPerGiB}`],
    ['Chromium out over one WebSocket / fetch POST', `${result.browserWsOutCeilingMBps} / ${result.browserFetchOutCeilingMBps} MB/s`],
    ['  Chromium CPU-s per GiB sent', `${result.browserWsOutCeilingCpuPerGiB} / ${result.browserFetchOutCeilingCpuPerGiB}`],
    [`upload to 2 browser tabs, R=2 (${browserMB} MiB)`, `${result.browserUploadMBps} MB/s  (${result.browserUploadVsDisk} of disk, ${result.browserUploadVsWsCeiling} of the WebSocket ceiling)`],
    ['  CPU-s per GiB', cpuLine(browser.cpuSecondsPerGiB.upload)],
    ['  Chromium CPU-s per GiB a tab takes in', `${result.browserTabUploadCpuPerGiB} (${result.browserTabUploadCpuVsWsCeiling} of the WebSocket's)`],
    ['download from browser tabs', `${result.browserDownloadMBps} MB/s  (${result.browserDownloadVsDisk} of disk, ${result.browserDownloadVsWsCeiling} of the WebSocket ceiling out)`],
    ['  CPU-s per GiB', cpuLine(browser.cpuSecondsPerGiB.download)],
    ['  Chromium CPU-s per GiB a tab serves', `${result.browserTabDownloadCpuPerGiB} (${result.browserTabDownloadCpuVsWsCeiling} of the WebSocket's)`],
  );
}
for (const [what, figure] of rows) console.log(`  ${what.padEnd(44)} ${figure}`);
console.log(JSON.stringify(result));
