import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { ShoalError } from '../../../shared/errors.ts';
import { refuseWhileLimited } from '../auth/access-control.ts';
import type { Auth } from '../auth/auth.ts';
import { roleAllows } from '../auth/roles.ts';
import type { GatewayMetrics } from '../status/gateway-metrics.ts';
import type { HttpMetrics } from '../status/http-metrics.ts';
import { clientAddress } from './client-address.ts';

type NodeEnv = { Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse } };

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="shoal-metrics"' };

/** A scrape secret shorter than this is refused: it would be guessable. */
const MIN_SCRAPE_TOKEN_LENGTH = 16;

/**
 * Counts every request of the native API by its route template (`/api/files/:name{.+}`), never its
 * raw path, so file names do not become label values. Mounted before every route.
 */
export function requestMetrics(http: HttpMetrics): MiddlewareHandler<NodeEnv> {
  return async (c, next) => {
    const startedAt = performance.now();
    await next();
    const operation = routePath(c, c.req.routeIndex) || 'unmatched';
    http.record({ api: 'native', method: c.req.method, operation, status: c.res.status }, startedAt, c.env?.incoming, c.env?.outgoing);
  };
}

/** The scrape secret in `file` (--metrics-token-file), for a Prometheus that should not hold an admin token. */
export function readScrapeToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ShoalError('BAD_REQUEST', `cannot read --metrics-token-file ${file}: ${(err as Error).message}`);
  }
  if (text.length < MIN_SCRAPE_TOKEN_LENGTH || /\s/.test(text)) {
    throw new ShoalError('BAD_REQUEST', `--metrics-token-file ${file} must hold one secret of at least ${MIN_SCRAPE_TOKEN_LENGTH} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return text;
}

/**
 * `GET /metrics` in Prometheus' text format, outside /api: for an admin API token, or the scrape
 * secret when one is configured (which opens nothing else). Wrong secrets count against the
 * address like any failed login.
 */
export function metricsRoutes(metrics: GatewayMetrics, auth: Auth, scrapeToken: string | undefined): Hono {
  const routes = new Hono();
  const scrapeDigest = scrapeToken === undefined ? undefined : digest(scrapeToken);
  routes.get('/', async (c) => {
    const address = clientAddress(c);
    const secret = /^Bearer +(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (secret === undefined) throw new ShoalError('UNAUTHORIZED', 'scraping needs Authorization: Bearer <admin token or --metrics-token-file secret>', { headers: CHALLENGE });
    refuseWhileLimited(auth.failures, address);
    // Digests of equal length, so the comparison takes as long whatever the secret sent.
    if (!(scrapeDigest && timingSafeEqual(digest(secret), scrapeDigest))) {
      const token = await auth.tokens.authenticate(secret);
      if (!token) {
        auth.failures.failed(address);
        throw new ShoalError('UNAUTHORIZED', 'the token is neither an API token nor the scrape secret', { headers: CHALLENGE });
      }
      if (!roleAllows(token.role, 'admin')) throw new ShoalError('FORBIDDEN', `metrics need an admin token or the scrape secret; the token ${token.name} has ${token.role}`);
    }
    const { body, contentType } = await metrics.scrape();
    return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  });
  return routes;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
