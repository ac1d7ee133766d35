import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { BrowserOrigins } from '../browser-origin.ts';

/**
 * Until the API has tokens of its own, what hands out the right to join is kept to this machine:
 * a request from a loopback address, naming a host the gateway serves (not a rebound name), and,
 * when a browser sends one, an Origin of the gateway's own pages, so a page elsewhere that the
 * operator visits cannot ask for an invite. A body that changes state must be JSON, which a page
 * elsewhere cannot send without a preflight the gateway never grants.
 */
export function localOnly(origins: BrowserOrigins): MiddlewareHandler<{ Bindings: { incoming?: IncomingMessage } }> {
  return async (c, next) => {
    const address = c.env?.incoming?.socket.remoteAddress ?? '';
    if (!isLoopback(address)) throw new ShoalError('FORBIDDEN', 'this call is only answered from the gateway machine itself');
    const host = c.req.header('host');
    if (!origins.servesHost(host)) throw new ShoalError('FORBIDDEN', `this gateway does not serve the host ${String(host).slice(0, 100)}`);
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.allows(origin, host)) {
      throw new ShoalError('FORBIDDEN', `a page of ${origin.slice(0, 100)} may not make this call`);
    }
    if (c.req.method === 'POST' && !(c.req.header('content-type') ?? '').startsWith('application/json')) {
      throw new ShoalError('BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
    }
    await next();
  };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
