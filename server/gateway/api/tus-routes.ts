import { Hono, type Context } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { FileWriter } from '../files/file-writer.ts';
import type { ResumableUploads, UploadState } from '../files/resumable-uploads.ts';
import type { UploadAdmission } from '../files/upload-admission.ts';
import { requestBody } from './request-body.ts';
import { validateFileName } from './file-names.ts';

export const TUS_VERSION = '1.0.0';
const TUS_EXTENSIONS = 'creation,termination,expiration';
/** Not tus: the chunk size, of which a client should make its pieces multiples, since only whole chunks are kept. */
export const CHUNK_SIZE_HEADER = 'Shoal-Chunk-Size';

/**
 * `/api/uploads`: resumable uploads by the tus protocol 1.0.0 (creation, termination, expiration).
 * POST opens an upload of a declared length, named by its `filename` (or `name`) metadata; HEAD
 * tells how far it is stored; PATCH sends more from there; DELETE ends it. The file appears under
 * its name once its last byte is stored, and not before.
 */
export function tusRoutes(uploads: ResumableUploads, writer: FileWriter, admission: UploadAdmission): Hono {
  const tus = new Hono();

  // Every answer names the protocol, errors too, so a tus client knows it speaks to a tus server.
  tus.use('*', async (c, next) => {
    if (c.req.method !== 'OPTIONS' && c.req.header('tus-resumable') !== TUS_VERSION) {
      throw new ShoalError('PRECONDITION_FAILED', `this server speaks tus ${TUS_VERSION}: send Tus-Resumable: ${TUS_VERSION}`, { headers: { 'Tus-Version': TUS_VERSION } });
    }
    await next();
    c.header('Tus-Resumable', TUS_VERSION);
  });

  tus.options('/', (c) => {
    c.header('Tus-Version', TUS_VERSION);
    c.header('Tus-Extension', TUS_EXTENSIONS);
    c.header('Tus-Max-Size', String(uploads.maxFileBytes));
    c.header(CHUNK_SIZE_HEADER, String(uploads.chunkSize));
    return c.body(null, 204);
  });

  tus.post('/', async (c) => {
    if (c.req.header('upload-defer-length') !== undefined) throw new ShoalError('BAD_REQUEST', 'an upload must declare its Upload-Length when it is created');
    const length = byteCount(c.req.header('upload-length'), 'Upload-Length');
    const metadata = parseMetadata(c.req.header('upload-metadata') ?? '');
    const name = metadata.get('filename') ?? metadata.get('name');
    if (name === undefined) throw new ShoalError('BAD_NAME', 'name the file in Upload-Metadata: filename <base64 of the name>');
    writer.assertCanAccept(length);
    // Room for the whole upload is checked when it opens, and its rest again with each piece.
    admission.assertFits(length);
    const upload = await uploads.create(validateFileName(encodeURIComponent(name)), length);
    c.header('Location', `/api/uploads/${upload.id}`);
    describe(c, upload);
    return c.body(null, 201);
  });

  // Hono routes HEAD to GET handlers and drops the body.
  tus.get('/:id', async (c) => {
    const upload = await uploads.get(c.req.param('id'));
    describe(c, upload);
    c.header('Upload-Length', String(upload.length));
    return c.body(null, 200);
  });

  tus.patch('/:id', async (c) => {
    if (c.req.header('content-type') !== 'application/offset+octet-stream') {
      throw new ShoalError('UNSUPPORTED_MEDIA_TYPE', 'a PATCH carries Content-Type: application/offset+octet-stream');
    }
    const offset = byteCount(c.req.header('upload-offset'), 'Upload-Offset');
    const id = c.req.param('id');
    const { length } = await uploads.get(id);
    // A slot and room for what is left of the upload, before a byte of the piece is read.
    const admitted = admission.admit(Math.max(0, length - offset));
    try {
      describe(c, await uploads.append(id, offset, admitted.body(requestBody(c))));
    } finally {
      admitted.end();
    }
    return c.body(null, 204);
  });

  tus.delete('/:id', async (c) => {
    await uploads.terminate(c.req.param('id'));
    return c.body(null, 204);
  });

  return tus;
}

function describe(c: Context, upload: UploadState): void {
  c.header('Upload-Offset', String(upload.offset));
  c.header('Upload-Expires', upload.expiresAt.toUTCString());
  c.header('Cache-Control', 'no-store');
}

function byteCount(value: string | undefined, header: string): number {
  if (value === undefined || !/^\d{1,16}$/.test(value)) throw new ShoalError('BAD_REQUEST', `${header} must be a whole number of bytes`);
  return Number(value);
}

/** `key base64,key2 base64`: the tus Upload-Metadata header. */
function parseMetadata(header: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of header.split(',')) {
    const [key, value = ''] = pair.trim().split(' ');
    if (!key) continue;
    try {
      pairs.set(key, new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0))));
    } catch {
      throw new ShoalError('BAD_REQUEST', `Upload-Metadata ${JSON.stringify(key)} is not base64 of UTF-8 text`);
    }
  }
  return pairs;
}
