import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright';
import { WebSocketServer } from 'ws';
import { chromiumCpu, chromiumProcesses } from './chromium-cpu.ts';

const FRAME = 4 * 1024 * 1024;

export interface BrowserCeilings {
  /** What Chromium receives over one WebSocket from a `ws` server pushing 4 MiB binary messages, in MB/s. */
  webSocketMBps: number;
  /** What Chromium fetches over HTTP, 4 MiB a response with two at once (as a tab's window of puts), in MB/s. */
  fetchMBps: number;
  /**
   * CPU-seconds per GiB Chromium spent (every process of it) on each: unlike MB/s, this does not
   * change with what else the machine runs, so a tab's cost per byte compares with it on a busy one.
   */
  webSocketCpuPerGiB: number;
  fetchCpuPerGiB: number;
}

/**
 * The ceilings of a browser tab as a node on this machine, with nothing of Shoal in the way: the
 * same bytes a tab is sent for its puts, into a page that only counts them.
 */
export async function browserCeilings(context: BrowserContext, totalBytes: number): Promise<BrowserCeilings> {
  const frame = Buffer.alloc(FRAME, 7);
  const frames = Math.max(1, Math.round(totalBytes / FRAME));
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Access-Control-Allow-Origin': '*', 'Content-Length': FRAME });
    res.end(frame);
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket) => {
    socket.once('message', async () => {
      // Four messages in flight, as the gateway keeps a tab's window of puts.
      let inFlight = 0;
      let wake: (() => void) | null = null;
      for (let i = 0; i < frames; i++) {
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
  const origin = `127.0.0.1:${(http.address() as AddressInfo).port}`;
  const page = await context.newPage();
  const chromium = chromiumProcesses();
  const cpuNow = (): number => Object.values(chromiumCpu(chromium)).reduce((sum, seconds) => sum + seconds, 0);
  try {
    const wsStartCpu = cpuNow();
    const wsSeconds = await page.evaluate(
      ({ url, bytes }) =>
        new Promise<number>((resolve, reject) => {
          const socket = new WebSocket(url);
          socket.binaryType = 'arraybuffer';
          let received = 0;
          let started = 0;
          socket.addEventListener('open', () => {
            started = performance.now();
            socket.send('go');
          });
          socket.addEventListener('message', (ev) => {
            received += (ev.data as ArrayBuffer).byteLength;
            if (received >= bytes) {
              resolve((performance.now() - started) / 1000);
              socket.close();
            }
          });
          socket.addEventListener('error', () => reject(new Error('the raw WebSocket failed')));
        }),
      { url: `ws://${origin}/`, bytes: frames * FRAME },
    );
    const wsCpu = cpuNow() - wsStartCpu;
    const fetchStartCpu = cpuNow();
    const fetchSeconds = await page.evaluate(
      async ({ url, count }) => {
        const started = performance.now();
        let next = 0;
        // No named function in here: the bench's TypeScript loader would wrap it in a helper the page lacks.
        await Promise.all(
          [0, 1].map(async () => {
            while (next++ < count) await (await fetch(url, { cache: 'no-store' })).arrayBuffer();
          }),
        );
        return (performance.now() - started) / 1000;
      },
      { url: `http://${origin}/`, count: frames },
    );
    const fetchCpu = cpuNow() - fetchStartCpu;
    // MiB, as every MB/s figure of the bench.
    const megabytes = (frames * FRAME) / (1024 * 1024);
    return { webSocketMBps: megabytes / wsSeconds, fetchMBps: megabytes / fetchSeconds, webSocketCpuPerGiB: (wsCpu * 1024) / megabytes, fetchCpuPerGiB: (fetchCpu * 1024) / megabytes };
  } finally {
    await page.close();
    wss.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
}
