import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import type { SessionInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import type { BrowserOrigins } from '../browser-origin.ts';
import type { FailedAttempts } from './failed-attempts.ts';
import { requiredRole } from './route-roles.ts';
import { roleAllows } from './roles.ts';
import { SESSION_COOKIE, type Sessions } from './sessions.ts';
import type { ApiTokens } from './tokens.ts';
import type { TokenRecord } from './token-store.ts';

export interface AuthEnv {
  Bindings: { incoming?: IncomingMessage };
  Variables: { caller: Caller };
}

/** Who made an authenticated call, and how it proved it. */
export interface Caller {
  token: TokenRecord;
  via: SessionInfo['via'];
}

export interface AccessControlServices {
  tokens: ApiTokens;
  sessions: Sessions;
  origins: BrowserOrigins;
  failures: FailedAttempts;
  /** The client's address, for counting failures; the socket's peer unless a trusted proxy says otherwise. */
  addressOf: (c: Context<AuthEnv>) => string;
}

/** The address of the socket a request came on. */
export function socketAddress(c: Context<AuthEnv>): string {
  return c.env?.incoming?.socket.remoteAddress ?? '';
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="shoal"' };

/**
 * Every HTTP request, the web app's pages included, must name a host the gateway serves: a page
 * that reached it by DNS rebinding names the attacker's domain and gets nothing, not even the app.
 */
export function servedHostsOnly(origins: BrowserOrigins): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    const target = new URL(c.req.url).host;
    if (!origins.servesHost(host) || !origins.servesHost(target)) {
      throw new ShoalError('MISDIRECTED', `this gateway does not serve the host ${String(host ?? target).slice(0, 100)}: add it to --allowed-hosts if it should`);
    }
    await next();
  };
}

/**
 * The API's door: a bearer token or a session cookie, of a role `requiredRole` allows. A call that
 * rides on the cookie and changes something must come from the gateway's own pages (its Origin),
 * since a browser attaches the cookie to whatever sends it; a bearer header no other site can make
 * a browser send. Wrong credentials count against the client's address, which waits once it has
 * spent its allowance.
 */
export function accessControl(services: AccessControlServices): MiddlewareHandler<AuthEnv> {
  const { addressOf } = services;
  return async (c, next) => {
    const need = requiredRole(c.req.method, c.req.path);
    if (need === 'public') {
      checkOrigin(c, services.origins, false);
      await next();
      return;
    }
    const address = addressOf(c);
    const authorization = c.req.header('authorization');
    const cookie = getCookie(c, SESSION_COOKIE);
    if (authorization === undefined && cookie === undefined) throw new ShoalError('UNAUTHORIZED', 'this call needs an API token (Authorization: Bearer) or a dashboard login', { headers: CHALLENGE });
    refuseWhileLimited(services.failures, address);

    let caller: Caller;
    if (authorization !== undefined) {
      const secret = /^Bearer +(\S+)\s*$/i.exec(authorization)?.[1];
      if (secret === undefined) throw new ShoalError('UNAUTHORIZED', 'send the API token as Authorization: Bearer <token>', { headers: CHALLENGE });
      const token = await services.tokens.authenticate(secret);
      if (!token) {
        services.failures.failed(address);
        throw new ShoalError('UNAUTHORIZED', 'the API token is unknown or revoked', { headers: CHALLENGE });
      }
      caller = { token, via: 'bearer' };
    } else {
      const token = await services.sessions.token(cookie!);
      if (!token) {
        // An ended session is no guess at anyone's: the browser is told to drop it and log in again.
        deleteCookie(c, SESSION_COOKIE, { path: '/' });
        throw new ShoalError('UNAUTHORIZED', 'the dashboard session has ended: log in again', { headers: CHALLENGE });
      }
      caller = { token, via: 'cookie' };
      checkOrigin(c, services.origins, UNSAFE_METHODS.has(c.req.method));
    }
    if (!roleAllows(caller.token.role, need)) {
      throw new ShoalError('FORBIDDEN', `this call needs the ${need} role; the token ${caller.token.name} has ${caller.token.role}`);
    }
    c.set('caller', caller);
    await next();
  };
}

/** Refuses a client that spent its allowance of failures, with when it may try again. */
export function refuseWhileLimited(failures: FailedAttempts, address: string): void {
  const wait = failures.retryAfterSeconds(address);
  if (wait > 0) throw new ShoalError('RATE_LIMITED', `too many failed logins from ${address}: try again in ${wait} s`, { headers: { 'Retry-After': String(wait) } });
}

/**
 * A browser names the page that made a request in Origin (on every POST, PUT, PATCH and DELETE).
 * It must be one of the gateway's own pages or a configured origin; `required` refuses a request
 * without one, where a page elsewhere could otherwise ride on the cookie.
 */
function checkOrigin(c: Context, origins: BrowserOrigins, required: boolean): void {
  const origin = c.req.header('origin');
  if (origin === undefined ? required : !origins.allows(origin, c.req.header('host'))) {
    throw new ShoalError('FORBIDDEN', `a page of ${String(origin).slice(0, 100)} may not make this call with the dashboard's login`);
  }
}
