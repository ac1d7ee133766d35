import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { FileInfo, FileListing, NodeInfo } from '../../shared/api-types.ts';
import { ShoalError, toShoalError } from '../../shared/errors.ts';
import { deleteChunksFromNodes } from './chunk-cleanup.ts';
import type { GatewayContext } from './context.ts';
import { openFileStream, parseRange } from './download.ts';
import { validateFileName } from './file-names.ts';
import { clusterHealth, fileHealth } from './health.ts';
import { nodeSafety, removeNode, setDraining } from './node-admin.ts';
import { assertCanAccept, storeFile } from './upload.ts';

const FILES_PREFIX = '/api/files/';
const SSE_KEEPALIVE_MS = 15_000;

/** The REST API of DESIGN.md section 3. Every error, typed or not, leaves through onError as JSON. */
export function createApi(ctx: GatewayContext): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    const e = toShoalError(err);
    if (e.status >= 500 && e.code === 'INTERNAL') console.error(err);
    return c.json(e.toJSON(), e.status as 500);
  });

  // Registered before the wildcard routes, which would also match the bare prefix.
  app.get('/api/files', async (c) => {
    const files = await ctx.metadata.listFiles();
    const chunks = await ctx.metadata.getChunks([...new Set(files.flatMap((f) => f.chunks))]);
    return c.json({
      files: files.map((file): FileListing => ({
        name: file.name,
        size: file.size,
        sha256: file.sha256,
        chunks: file.chunks.length,
        replicas: file.replicas,
        createdAt: file.createdAt,
        health: fileHealth(ctx, file, chunks),
      })),
    });
  });

  app.put(`${FILES_PREFIX}*`, async (c) => {
    const name = fileName(c);
    const length = c.req.header('content-length');
    assertCanAccept(ctx, length === undefined ? null : Number(length));
    const file = await storeFile(ctx, name, c.req.raw.body);
    const info: FileInfo = { ...file, chunks: file.chunks.length };
    return c.json(info, 201);
  });

  app.on(['GET', 'HEAD'], `${FILES_PREFIX}*`, async (c) => {
    const file = await ctx.metadata.getFile(fileName(c));
    if (!file) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(fileName(c))}`);
    const etag = `"${file.sha256}"`;
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': new Date(file.createdAt).toUTCString(),
      'Content-Type': 'application/octet-stream',
    };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    let range;
    try {
      // If-Range names the version the client already has part of; for any other, send it all.
      const ifRange = c.req.header('if-range');
      range = ifRange === undefined || ifRange === etag ? parseRange(c.req.header('range'), file.size) : null;
    } catch (err) {
      headers['Content-Range'] = `bytes */${file.size}`;
      return c.json(toShoalError(err).toJSON(), 416, headers);
    }
    const status = range ? 206 : 200;
    const span = range ?? { start: 0, end: file.size - 1 };
    headers['Content-Length'] = String(span.end - span.start + 1);
    if (range) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${file.size}`;
    if (c.req.method === 'HEAD') return c.body(null, status, headers);
    return c.body(await openFileStream(ctx, file, span), status, headers);
  });

  app.delete(`${FILES_PREFIX}*`, async (c) => {
    const name = fileName(c);
    const removed = await ctx.metadata.deleteFile(name);
    if (!removed) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(name)}`);
    ctx.events.publish({ type: 'file.removed', name });
    await deleteChunksFromNodes(ctx, removed.orphaned);
    return c.body(null, 204);
  });

  app.get('/api/nodes', async (c) => {
    const [views, safety] = await Promise.all([ctx.registry.views(), nodeSafety(ctx)]);
    return c.json({ nodes: views.map((node): NodeInfo => ({ ...node, ...(safety.get(node.id) ?? { recordedChunks: 0, atRiskChunks: 0 }) })) });
  });

  app.post('/api/nodes/:id/drain', async (c) => {
    await setDraining(ctx, c.req.param('id'), true);
    return c.json({ node: await ctx.registry.view(c.req.param('id')) });
  });

  app.post('/api/nodes/:id/undrain', async (c) => {
    await setDraining(ctx, c.req.param('id'), false);
    return c.json({ node: await ctx.registry.view(c.req.param('id')) });
  });

  app.delete('/api/nodes/:id', async (c) => {
    await removeNode(ctx, c.req.param('id'), c.req.query('force') === '1' || c.req.query('force') === 'true');
    return c.body(null, 204);
  });

  app.post('/api/rebalance', (c) => {
    ctx.repair.rebalance();
    return c.json({ repair: ctx.repair.stats() }, 202);
  });

  app.post('/api/scrub', (c) => {
    const nodes = ctx.registry.ready();
    for (const link of nodes) link.send({ type: 'scrub' });
    return c.json({ nodes: nodes.map((l) => l.id) }, 202);
  });

  app.get('/api/health', async (c) => c.json(await clusterHealth(ctx)));

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const unsubscribe = ctx.events.subscribe((event) => {
        void stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
      });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(keepalive);
      unsubscribe();
    }),
  );

  app.all('/api/*', () => {
    throw new ShoalError('NOT_FOUND', 'no such API route');
  });

  return app;
}

function fileName(c: Context): string {
  const path = new URL(c.req.url).pathname;
  return validateFileName(path.slice(FILES_PREFIX.length));
}
