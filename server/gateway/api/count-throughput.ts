import type { Context, MiddlewareHandler } from 'hono';
import type { Throughput } from '../status/throughput.ts';

/** Which counter a request's body goes to, keyed by the request as client-address.ts keys its answers. */
const counters = new WeakMap<Request, Throughput>();

/**
 * Counts the file API's traffic: the bytes of every successful read's response as the client
 * takes them, and, through `countedBody`, every upload's body as the gateway consumes it.
 */
export function countThroughput(throughput: Throughput): MiddlewareHandler {
  return async (c, next) => {
    counters.set(c.req.raw, throughput);
    await next();
    if (c.req.method === 'GET' && !counted.has(c.req.raw) && c.res.ok && c.res.body) c.res = new Response(throughput.countRead(c.res.body), c.res);
  };
}

/** Requests whose answer the route counted itself. */
const counted = new WeakSet<Request>();

/**
 * An answer's body, counted by the route when it is under countThroughput, so the middleware
 * leaves the answer as the route made it. A body held in memory is counted at once and sent as it
 * is; a stream is counted piece by piece as the client takes it. Counting a stream afterwards
 * would rebuild the answer around it, and @hono/node-server sends a rebuilt answer by reading up
 * to three chunks ahead and writing them without waiting for the socket: measured on a 256 MiB
 * download, ~20 MB more gateway RSS.
 */
export function countedAnswer<Body extends Uint8Array | ReadableStream<Uint8Array>>(c: Context, body: Body): Body {
  const throughput = counters.get(c.req.raw);
  if (!throughput) return body;
  counted.add(c.req.raw);
  if (body instanceof ReadableStream) return throughput.countRead(body) as Body;
  throughput.read(body.byteLength);
  return body;
}

/** The request body, counted as written when the route is under countThroughput. */
export function countedBody(c: Context, body: AsyncIterable<Uint8Array> | null): AsyncIterable<Uint8Array> | null {
  const throughput = counters.get(c.req.raw);
  return throughput && body ? throughput.countWritten(body) : body;
}
