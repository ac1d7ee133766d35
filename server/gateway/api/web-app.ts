import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>Shoal</title>
<body style="font:16px system-ui;margin:3rem auto;max-width:40rem">
<h1>Shoal gateway</h1><p>The web app is not built. Run <code>npm run build</code>, or use the API:
<a href="/api/health">/api/health</a>, <a href="/api/nodes">/api/nodes</a>, <a href="/api/files">/api/files</a>.</p>`;

/** Serves the built web app; paths that are not files get index.html so the app's own routes work on reload. */
export function mountWebApp(app: Hono, webRoot: string | undefined): void {
  const index = webRoot && join(webRoot, 'index.html');
  if (!index || !existsSync(index)) {
    app.get('*', (c) => c.html(PLACEHOLDER));
    return;
  }
  app.use('*', serveStatic({ root: relative(process.cwd(), webRoot) || '.' }));
  app.get('*', async (c) => c.html(await readFile(index, 'utf8')));
}
