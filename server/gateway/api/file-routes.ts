import { Hono, type Context } from 'hono';
import type { FileInfo } from '../../../shared/api-types.ts';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import type { FileReader } from '../files/file-reader.ts';
import type { FileWriter } from '../files/file-writer.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { ClusterStatus } from '../status/cluster-status.ts';
import { parseRange } from './byte-range.ts';
import { validateFileName } from './file-names.ts';

/** `/api/files`: list, upload, download (ranges, conditionals) and delete. */
export function fileRoutes(metadata: MetadataStore, reader: FileReader, writer: FileWriter, status: ClusterStatus): Hono {
  const files = new Hono();

  files.get('/', async (c) => c.json({ files: await status.files() }));

  files.put('/*', async (c) => {
    const name = fileName(c);
    const length = c.req.header('content-length');
    writer.assertCanAccept(length === undefined ? null : Number(length));
    const file = await writer.store(name, c.req.raw.body);
    const info: FileInfo = { ...file, chunks: file.chunks.length };
    return c.json(info, 201);
  });

  files.on(['GET', 'HEAD'], '/*', async (c) => {
    const name = fileName(c);
    const file = await metadata.getFile(name);
    if (!file) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(name)}`);
    const etag = `"${file.sha256}"`;
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': new Date(file.createdAt).toUTCString(),
      'Content-Type': 'application/octet-stream',
    };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    // If-Range names the version the client already has part of; for any other, send it all.
    const ifRange = c.req.header('if-range');
    const range = ifRange === undefined || ifRange === etag ? withHeaders(() => parseRange(c.req.header('range'), file.size), headers) : null;
    const status = range ? 206 : 200;
    const span = range ?? { start: 0, end: file.size - 1 };
    headers['Content-Length'] = String(span.end - span.start + 1);
    if (range) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${file.size}`;
    if (c.req.method === 'HEAD') return c.body(null, status, headers);
    return c.body(await reader.open(file, span), status, headers);
  });

  files.delete('/*', async (c) => {
    await writer.delete(fileName(c));
    return c.body(null, 204);
  });

  return files;
}

/** A 416 describes the file like any other answer about it (ETag, Last-Modified, ranges); its body stays JSON. */
function withHeaders<T>(work: () => T, headers: Record<string, string>): T {
  try {
    return work();
  } catch (err) {
    const e = toShoalError(err);
    const { 'Content-Type': _body, ...about } = headers;
    throw new ShoalError(e.code, e.message, { cause: err, headers: { ...about, ...e.headers } });
  }
}

/** The name as the client encoded it in the path after /api/files/, validated. */
function fileName(c: Context): string {
  const path = new URL(c.req.url).pathname;
  return validateFileName(path.slice(path.indexOf('/api/files/') + '/api/files/'.length));
}
