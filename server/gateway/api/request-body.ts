import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { countedBody } from './count-throughput.ts';

/**
 * The request body as the socket delivers it, read only as fast as it is consumed. The body that
 * @hono/node-server offers (`c.req.raw.body`) comes through Readable.toWeb, whose queue counts
 * pieces rather than bytes and keeps reading an upload the gateway has paused into memory: 32
 * paused uploads of 20 MB took the gateway past 600 MB. The Node stream's own iterator stops at
 * its 16 KiB high-water mark, so TCP backpressure reaches the client.
 */
export function requestBody(c: Context): AsyncIterable<Uint8Array> | null {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return countedBody(c, incoming ?? (c.req.raw.body as AsyncIterable<Uint8Array> | null));
}
