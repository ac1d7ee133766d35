import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { startHeadlessChromium } from './headless-chromium.ts';

const FRAME = 4 * 1024 * 1024;

/** What Chromium moves over one path, with nothing of Shoal in the way. */
export interface Ceiling {
  MBps: number;
  /**
   * CPU-seconds per GiB Chromium spent (every process of it): unlike MB/s, this does not change
   * with what else the machine runs, so a tab's cost per byte compares with it on a busy one.
   */
  cpuPerGiB: number;
}

/**
 * The ceilings of a browser tab as a node on this machine, 4 MiB messages each way, as many in
 * flight as a gateway keeps with a tab: what a page receives over one WebSocket (a tab taking
 * puts in frames) and sends over one (serving gets in frames), and the same over fetch: GET
 * responses (puts over HTTP) and POSTs of a Blob (gets over HTTP).
 */
export interface BrowserCeilings {
  webSocketIn: Ceiling;
  webSocketOut: Ceiling;
  fetchIn: Ceiling;
  fetchOut: Ceiling;
}
type Path = keyof BrowserCeilings;
const PATHS: Path[] = ['webSocketIn', 'webSocketOut', 'fetchIn', 'fetchOut'];

/**
 * The page: asks the bench for each path in turn, runs it, and posts back its seconds. Plain
 * JavaScript, served as it is: the bench's pages take no code from its TypeScript loader.
 */
const PAGE = `<!doctype html><script>
const FRAME = ${FRAME};
const frame = new Uint8Array(FRAME).fill(7);
const body = new Blob([frame]);
const socketUrl = location.origin.replace('http', 'ws') + '/ws';
function openSocket(mode) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(socketUrl + '?' + mode);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error('the raw WebSocket failed'));
  });
}
const paths = {
  async webSocketIn(frames) {
    const socket = await openSocket('in');
    await new Promise((resolve) => {
      let received = 0;
      socket.onmessage = (ev) => { received += ev.data.byteLength; if (received >= frames * FRAME) resolve(); };
      socket.send(String(frames));
    });
    socket.close();
  },
  async webSocketOut(frames) {
    // The bench answers each message, and four go unanswered at most, as a gateway's gets.
    const socket = await openSocket('out');
    await new Promise((resolve) => {
      let sent = 0, answered = 0;
      const more = () => { while (sent < frames && sent - answered < 4) { socket.send(frame); sent++; } };
      socket.onmessage = () => { if (++answered === frames) resolve(); else more(); };
      more();
    });
    socket.close();
  },
  async fetchIn(frames) {
    let next = 0;
    await Promise.all([0, 1].map(async () => { while (next++ < frames) await (await fetch('/chunk', { cache: 'no-store' })).arrayBuffer(); }));
  },
  async fetchOut(frames) {
    let next = 0;
    await Promise.all([0, 1].map(async () => { while (next++ < frames) await (await fetch('/chunk', { method: 'POST', body })).arrayBuffer(); }));
  },
};
(async () => {
  for (;;) {
    const step = await (await fetch('/step', { method: 'POST' })).json();
    if (!step.path) return;
    const started = performance.now();
    await paths[step.path](step.frames);
    await fetch('/result', { method: 'POST', body: String((performance.now() - started) / 1000) });
  }
})();
</script>`;

/** Runs each path over `totalBytes` in one Chromium page with no DevTools attached. */
export async function browserCeilings(totalBytes: number): Promise<BrowserCeilings> {
  const frame = Buffer.alloc(FRAME, 7);
  const frames = Math.max(1, Math.round(totalBytes / FRAME));
  const queue = [...PATHS];
  const results: Partial<BrowserCeilings> = {};
  let chromium: Awaited<ReturnType<typeof startHeadlessChromium>> | null = null;
  let running: { path: Path; cpuBefore: number } | null = null;
  let finished: () => void;
  const allFinished = new Promise<void>((resolve) => (finished = resolve));
  const totalCpu = (): number => Object.values(chromium!.cpu()).reduce((sum, seconds) => sum + seconds, 0);
  const http = createServer(async (req, res) => {
    const path = new URL(req.url!, 'http://bench').pathname;
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    } else if (path === '/chunk' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': FRAME }).end(frame);
    } else if (path === '/chunk') {
      await drain(req);
      res.end('{}');
    } else if (path === '/step') {
      const next = queue.shift();
      running = next ? { path: next, cpuBefore: totalCpu() } : null;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: next ?? null, frames }));
      if (!next) finished();
    } else if (path === '/result' && running) {
      const cpu = totalCpu() - running.cpuBefore;
      const seconds = Number(await text(req));
      const mebibytes = (frames * FRAME) / (1024 * 1024);
      // MiB, as every MB/s figure of the bench.
      results[running.path] = { MBps: mebibytes / seconds, cpuPerGiB: (cpu * 1024) / mebibytes };
      res.end();
    } else {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 2 * FRAME });
  wss.on('connection', (socket, req) => {
    if (req.url!.endsWith('?out')) {
      socket.on('message', () => socket.send('k'));
      return;
    }
    socket.once('message', async (count) => {
      // Four messages in flight, as the gateway keeps a tab's window of puts.
      let inFlight = 0;
      let wake: (() => void) | null = null;
      for (let i = 0; i < Number(count.toString()); i++) {
        while (inFlight >= 4) await new Promise<void>((resolve) => (wake = resolve));
        inFlight++;
        socket.send(frame, { binary: true }, () => {
          inFlight--;
          wake?.();
        });
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    chromium = await startHeadlessChromium(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    await Promise.race([allFinished, chromium.failed]);
    return results as BrowserCeilings;
  } finally {
    await chromium?.close();
    wss.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req);
}

async function text(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const piece of req) body += piece;
  return body;
}
