import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';

type Env = { Bindings: { incoming?: IncomingMessage } };

interface Client {
  address: string;
  /** Whether the client's own connection is HTTPS: to the gateway, or to a trusted proxy that says so. */
  secure: boolean;
}

const clients = new WeakMap<Request, Client>();

/**
 * Works out who is asking, once per request, for `clientAddress` and `isSecure`. X-Forwarded-For
 * and X-Forwarded-Proto are believed only from the reverse proxies named in --trusted-proxies:
 * anyone else could write them to pass as another address (rate limits per address, loopback-only
 * calls) or as HTTPS (Secure cookies). Behind a chain of trusted proxies the client is the
 * rightmost address in X-Forwarded-For that is not one of them.
 */
export function forwardedClient(trustedProxies: readonly string[]): MiddlewareHandler<Env> {
  const trusted = new Set(trustedProxies.map(normalise));
  return async (c, next) => {
    clients.set(c.req.raw, resolveClient(c, trusted));
    await next();
  };
}

/** The address of the client behind the request (a trusted proxy's X-Forwarded-For, else the socket's peer). */
export function clientAddress(c: Context): string {
  return (clients.get(c.req.raw) ?? resolveClient(c as Context<Env>, new Set())).address;
}

/** Whether the client reached the gateway over HTTPS, directly or through a trusted proxy. */
export function isSecure(c: Context): boolean {
  return (clients.get(c.req.raw) ?? resolveClient(c as Context<Env>, new Set())).secure;
}

function resolveClient(c: Context<Env>, trusted: Set<string>): Client {
  const socket = c.env?.incoming?.socket;
  const peer = normalise(socket?.remoteAddress ?? '');
  const direct: Client = { address: peer, secure: (socket as { encrypted?: boolean } | undefined)?.encrypted === true };
  if (!trusted.has(peer)) return direct;
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => normalise(hop.trim()))
    .filter((hop) => isIP(hop) !== 0);
  let address = peer;
  while (hops.length > 0 && trusted.has(address)) address = hops.pop()!;
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return { address, secure: proto === undefined ? direct.secure : proto === 'https' };
}

/** `::ffff:127.0.0.1` is 127.0.0.1: the same client whichever socket family it came in on. */
function normalise(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
