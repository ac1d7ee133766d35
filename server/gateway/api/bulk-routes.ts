import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { BrowserOrigins } from '../browser-origin.ts';
import type { BulkTransfers, Transfer } from '../nodes/bulk-transfers.ts';

/**
 * BULK_PATH: chunk bytes between the gateway and a browser node over HTTP, outside /api. What
 * authenticates a request is the pair of unguessable values in its path, the node session's key
 * and a one-time transfer id, which only that node's WebSocket was told: no user token is involved.
 * A page on a configured origin (--allowed-origins) may read the answers (CORS); its requests carry
 * no cookie and no custom header, so browsers send them without a preflight.
 */
export function bulkRoutes(transfers: BulkTransfers, origins: BrowserOrigins): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.allows(origin, c.req.header('host'))) throw new ShoalError('FORBIDDEN', `origin ${origin.slice(0, 100)} may not move node chunks`);
    await next();
    if (origin !== undefined) {
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Vary', 'Origin');
    }
  });
  app.get('/:session/:id', (c) => {
    const transfer = taken(transfers, c, 'to-node');
    const keep = cutOffWhenOver(c, transfer);
    outgoing(c)?.once('close', keep);
    transfer.traffic.bulkBytesOut += transfer.data.length;
    return c.body(transfer.data as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' });
  });
  app.post('/:session/:id', async (c) => {
    const transfer = taken(transfers, c, 'from-node');
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > transfer.maxBytes) throw tooLarge(transfer.maxBytes);
    const keep = cutOffWhenOver(c, transfer);
    let data: Uint8Array;
    try {
      data = await readAtMost(body(c), transfer.maxBytes);
    } catch (err) {
      if (err instanceof ShoalError) throw err;
      throw new ShoalError('BAD_REQUEST', 'the transfer body broke off', { cause: err });
    } finally {
      // Read in full: the answer must go out even though delivering it ends the request.
      keep();
    }
    transfer.traffic.bulkBytesIn += data.length;
    transfer.deliver(data);
    return c.body(null, 204);
  });
  return app;
}

function taken<D extends Transfer['direction']>(transfers: BulkTransfers, c: Context, direction: D): Extract<Transfer, { direction: D }> {
  const transfer = transfers.take(c.req.param('session')!, c.req.param('id')!);
  // A transfer of the other direction is spent too: its id was misused, and its request falls back to a frame.
  if (transfer?.direction !== direction) throw new ShoalError('NOT_FOUND', 'no such transfer: it expired, was used, or belongs to another node');
  return transfer as Extract<Transfer, { direction: D }>;
}

type NodeEnv = { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;

function body(c: Context): AsyncIterable<Uint8Array> {
  return (c.env as NodeEnv)?.incoming ?? ((c.req.raw.body ?? []) as unknown as AsyncIterable<Uint8Array>);
}

function outgoing(c: Context): ServerResponse | undefined {
  return (c.env as NodeEnv)?.outgoing;
}

/** Destroys the request's connection if the transfer's node request ends first; the returned function stops that. */
function cutOffWhenOver(c: Context, transfer: Transfer): () => void {
  const socket = (c.env as NodeEnv)?.incoming?.socket;
  if (!socket) return () => {};
  const cut = (): void => void socket.destroy();
  if (transfer.over.aborted) cut();
  transfer.over.addEventListener('abort', cut, { once: true });
  return () => transfer.over.removeEventListener('abort', cut);
}

/** The whole body in one buffer (a chunk is what the get asked for), refused as soon as it passes `max`. */
async function readAtMost(pieces: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const piece of pieces) {
    length += piece.length;
    if (length > max) throw tooLarge(max);
    parts.push(piece);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
}

function tooLarge(max: number): ShoalError {
  return new ShoalError('FILE_TOO_LARGE', `a transfer body may be at most ${max} bytes`);
}
