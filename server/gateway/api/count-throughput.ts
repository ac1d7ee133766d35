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

/** Requests whose answer the route counted itself: a body in memory, sent whole. */
const counted = new WeakSet<Request>();

/**
 * An answer's bytes, counted as read at once when the route is under countThroughput: a body held
 * in memory is sent as it is, without the stream that counting it piece by piece would wrap it in.
 */
export function countedAnswer(c: Context, bytes: Uint8Array): Uint8Array {
  const throughput = counters.get(c.req.raw);
  if (throughput) {
    throughput.read(bytes.byteLength);
    counted.add(c.req.raw);
  }
  return bytes;
}

/** The request body, counted as written when the route is under countThroughput. */
export function countedBody(c: Context, body: AsyncIterable<Uint8Array> | null): AsyncIterable<Uint8Array> | null {
  const throughput = counters.get(c.req.raw);
  return throughput && body ? throughput.countWritten(body) : body;
}
