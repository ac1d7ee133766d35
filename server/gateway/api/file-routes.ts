import { Hono, type Context } from 'hono';
import type { FileInfo } from '../../../shared/api-types.ts';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import type { FileReader } from '../files/file-reader.ts';
import type { FileWriter } from '../files/file-writer.ts';
import type { UploadAdmission } from '../files/upload-admission.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { ClusterStatus } from '../status/cluster-status.ts';
import { parseRange } from './byte-range.ts';
import { fileEtag } from './file-etag.ts';
import { evaluatePreconditions } from './conditional.ts';
import { attachment } from './content-disposition.ts';
import { countedAnswer } from './count-throughput.ts';
import { validateFileName } from './file-names.ts';
import { listingQuery } from './listing-query.ts';
import { rawPath } from './raw-path.ts';
import { requestBody } from './request-body.ts';

/** `/api/files`: list, upload, download (ranges, conditionals) and delete. */
export function fileRoutes(metadata: MetadataStore, reader: FileReader, writer: FileWriter, status: ClusterStatus, admission: UploadAdmission): Hono {
  const files = new Hono();

  files.get('/', async (c) => {
    const query = listingQuery(c.req.query());
    const { files: listed, next, prefixes } = await status.files(query);
    return c.json({ files: listed, ...(next === undefined ? {} : { next }), ...(query.delimiter ? { prefixes } : {}) });
  });

  files.put('/*', async (c) => {
    const name = fileName(c);
    const length = c.req.header('content-length');
    const declared = length === undefined ? null : Number(length);
    await checkPreconditions(c, name);
    writer.assertCanAccept(declared);
    const upload = admission.admit(declared);
    try {
      const file = await writer.store(name, upload.body(requestBody(c)));
      const info: FileInfo = { ...file, chunks: file.chunks.length };
      return c.json(info, 201);
    } finally {
      upload.end();
    }
  });

  files.on(['GET', 'HEAD'], '/*', async (c) => {
    const name = fileName(c);
    const file = await metadata.getFile(name);
    if (!file) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(name)}`);
    const etag = fileEtag(file);
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': new Date(file.createdAt).toUTCString(),
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': attachment(name),
    };
    if (evaluatePreconditions(c.req.method, { ifMatch: c.req.header('if-match'), ifNoneMatch: c.req.header('if-none-match') }, etag) === 'not-modified') {
      const { 'Content-Type': _type, 'Content-Disposition': _disposition, ...about } = headers;
      return c.body(null, 304, about);
    }
    // If-Range names the version the client already has part of; for any other, send it all.
    const ifRange = c.req.header('if-range');
    const range = ifRange === undefined || ifRange === etag ? withHeaders(() => parseRange(c.req.header('range'), file.size), headers) : null;
    const status = range ? 206 : 200;
    const span = range ?? { start: 0, end: file.size - 1 };
    headers['Content-Length'] = String(span.end - span.start + 1);
    if (range) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${file.size}`;
    if (c.req.method === 'HEAD') return c.body(null, status, headers);
    const body = await reader.open(file, span);
    return c.body(countedAnswer(c, body) as Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>, status, headers);
  });

  files.delete('/*', async (c) => {
    const name = fileName(c);
    await checkPreconditions(c, name);
    await writer.delete(name);
    return c.body(null, 204);
  });

  /**
   * If-Match and If-None-Match against the file's current version before a change: `If-None-Match: *`
   * makes a PUT create-only. Checked before the body is read, so two such PUTs racing may both pass.
   */
  async function checkPreconditions(c: Context, name: string): Promise<void> {
    const ifMatch = c.req.header('if-match');
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifMatch === undefined && ifNoneMatch === undefined) return;
    const file = await metadata.getFile(name);
    evaluatePreconditions(c.req.method, { ifMatch, ifNoneMatch }, file ? fileEtag(file) : null);
  }

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

/** The name as the client encoded it in the request's raw path after /api/files/, validated before any normalisation. */
function fileName(c: Context): string {
  const path = rawPath(c);
  const prefix = '/api/files/';
  if (!path.startsWith(prefix)) throw new ShoalError('BAD_NAME', `a file's path must start with ${prefix} as written, not encoded`);
  return validateFileName(path.slice(prefix.length));
}
