import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';

type Env = { Bindings: { incoming?: IncomingMessage } };

/**
 * The request's path as the client sent it: percent-encoded, with its dot segments. Hono's path
 * and `c.req.url` went through the URL parser, which resolves `a/%2e%2e/b` to `b`.
 */
export function rawPath(c: Context<Env>): string {
  const target = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
  const path = target.startsWith('/') ? target : target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/**
 * Refuses a path with a `.` or `..` segment in any spelling (`%2e`, `%2E%2e`, …), before routing:
 * the URL parser would resolve it, so the request would reach another route or name than the one
 * it spells, e.g. `PUT /api/files/sub/%2e%2e/x` overwriting `x`.
 */
export function refuseDotSegments(): MiddlewareHandler<Env> {
  return async (c, next) => {
    const segments = rawPath(c).split('/').map((segment) => segment.replace(/%2e/gi, '.'));
    if (segments.some((segment) => segment === '.' || segment === '..')) {
      throw new ShoalError('BAD_NAME', 'a path may not have a . or .. segment, in any encoding');
    }
    await next();
  };
}
