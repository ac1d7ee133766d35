import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';

/**
 * Until the API has tokens of its own, what hands out the right to join is kept to this machine:
 * a request from a loopback address, and, when a browser sends one, an Origin of the gateway's own
 * pages, so a page elsewhere that the operator visits cannot ask for an invite.
 */
export function localOnly(): MiddlewareHandler<{ Bindings: { incoming?: IncomingMessage } }> {
  return async (c, next) => {
    const address = c.env?.incoming?.socket.remoteAddress ?? '';
    if (!isLoopback(address)) throw new ShoalError('FORBIDDEN', 'this call is only answered from the gateway machine itself');
    const origin = c.req.header('origin');
    if (origin !== undefined && !sameHost(origin, c.req.header('host'))) {
      throw new ShoalError('FORBIDDEN', `a page of ${origin.slice(0, 100)} may not make this call`);
    }
    await next();
  };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
