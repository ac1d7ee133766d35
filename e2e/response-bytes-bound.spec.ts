import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright';
import { build, type Rollup } from 'vite';
import { launchBrowser } from '../server/testing/browser.ts';

// A tab fetches a put's chunk from a gateway (node-agent.ts #fetchTransfer) with responseBytes,
// which promises that a gateway cannot make the tab hold more than it expects. Content-Length
// counts the bytes on the wire; with Content-Encoding the browser decodes them into many more.
const MAX_BYTES = 1024 * 1024;
/** 256 MiB of zeros, about 256 KiB gzipped: a declared length well under MAX_BYTES. */
const BOMB = gzipSync(Buffer.alloc(256 * 1024 * 1024));

let server: Server;
let browser: Browser;
let page: Page;

before(async () => {
  const output = (await build({
    configFile: false,
    logLevel: 'warn',
    build: { write: false, minify: false, lib: { entry: fileURLToPath(new URL('../shared/response-bytes.ts', import.meta.url)), formats: ['iife'], name: 'shoalResponseBytes', fileName: 'response-bytes' } },
  })) as Rollup.RollupOutput[];
  const script = (output[0]!.output[0] as Rollup.OutputChunk).code;
  server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><script>${script}</script>`);
      return;
    }
    res.writeHead(200, { 'content-length': BOMB.length, 'content-encoding': 'gzip' });
    res.end(BOMB);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test('a body that decodes to far more than it declared is refused before the tab has taken more than it expects', async () => {
  const outcome = await page.evaluate(async (maxBytes) => {
    const res = await fetch('/transfer', { cache: 'no-store' });
    const code = await (window as unknown as { shoalResponseBytes: { responseBytes(r: Response, m: number): Promise<Uint8Array> } }).shoalResponseBytes.responseBytes(res, maxBytes).then(
      (bytes) => `read ${bytes.length}`,
      (err: { code?: string }) => err.code ?? String(err),
    );
    // What the browser decoded of the body before the tab stopped it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const timing = performance.getEntriesByType('resource').find((entry) => entry.name.endsWith('/transfer')) as PerformanceResourceTiming | undefined;
    return { code, decoded: timing?.decodedBodySize ?? 0 };
  }, MAX_BYTES);
  assert.equal(outcome.code, 'BAD_REQUEST');
  assert.ok(outcome.decoded <= 2 * MAX_BYTES, `the tab decoded ${outcome.decoded} bytes of a body declared as ${BOMB.length}, expecting at most ${MAX_BYTES}`);
});
