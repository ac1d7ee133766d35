import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { LoginLink, SessionInfo } from '../../../shared/api-types.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { accessControl, refuseWhileLimited, servedHostsOnly, socketAddress, type AccessControlServices, type AuthEnv, type Caller } from '../auth/access-control.ts';
import type { Auth } from '../auth/auth.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import type { BrowserOrigins } from '../browser-origin.ts';
import { isSecure } from './client-address.ts';
import { requestBody } from './request-body.ts';

/** The most a login or a new token's request may hold: a token or code and a name, many times over. */
const MAX_JSON_BYTES = 64 * 1024;

/**
 * Puts the access checks in front of everything `app` serves (mount it before any route), and adds
 * `/api/login`, `/api/logout`, `/api/session`, `/api/login-links` and `/api/tokens`.
 */
export function mountAccessControl(app: Hono, auth: Auth, origins: BrowserOrigins, addressOf: AccessControlServices['addressOf'] = socketAddress): void {
  app.use('*', servedHostsOnly(origins));
  app.use('/api/*', accessControl({ ...auth, origins, addressOf }) as MiddlewareHandler);
  app.route('/api', authRoutes(auth, addressOf));
  app.route('/api/tokens', tokenRoutes(auth));
}

function authRoutes(auth: Auth, address: AccessControlServices['addressOf']): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();

  // A login code (from the link the gateway prints) or a pasted token becomes an HttpOnly cookie
  // that no script reads and no other site's request carries.
  routes.post('/login', async (c) => {
    const credential = await jsonBody(c);
    refuseWhileLimited(auth.failures, address(c));
    const { code, token } = credential as { code?: unknown; token?: unknown };
    const tokenId =
      typeof code === 'string' ? auth.loginCodes.redeem(code) : typeof token === 'string' ? (await auth.tokens.authenticate(token))?.id : undefined;
    const session = tokenId === undefined ? undefined : await auth.sessions.open(tokenId);
    const record = session && (await auth.sessions.token(session.secret));
    if (!session || !record) {
      auth.failures.failed(address(c));
      throw new ShoalError('UNAUTHORIZED', typeof code === 'string' ? 'the login link is used up, has expired or is not one of this gateway\'s: make a new one with shoal login-link' : 'the token is unknown or revoked');
    }
    setCookie(c, SESSION_COOKIE, session.secret, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: isSecure(c),
      maxAge: session.maxAgeSeconds,
    });
    return c.json(sessionInfo({ token: record, via: 'cookie' }));
  });

  routes.post('/logout', async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined) await auth.sessions.close(cookie);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 204);
  });

  routes.get('/session', (c) => c.json(sessionInfo(c.get('caller'))));

  routes.post('/login-links', (c) => {
    const { code, expiresAt } = auth.loginCodes.create(c.get('caller').token.id);
    const link: LoginLink = { url: new URL(`/login#code=${code}`, c.req.url).href, expiresAt: expiresAt.toISOString() };
    return c.json(link, 201);
  });
  return routes;
}

/** `/api/tokens`: make, list and revoke API tokens (admin only, by the route table). */
function tokenRoutes(auth: Auth): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();
  routes.get('/', async (c) => c.json({ tokens: await auth.tokens.list() }));
  routes.post('/', async (c) => c.json(await auth.tokens.create((await jsonBody(c)) as { role?: unknown; name?: unknown }), 201));
  routes.delete('/:id', async (c) => {
    await auth.tokens.revoke(c.req.param('id'));
    return c.body(null, 204);
  });
  return routes;
}

/**
 * A JSON object body, announced as JSON: a page elsewhere cannot send that without a preflight the
 * gateway never grants, so it cannot log a browser in behind its back.
 */
async function jsonBody(c: Context): Promise<object> {
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) throw new ShoalError('BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
  const body: unknown = await smallText(c, MAX_JSON_BYTES).then(
    (text) => JSON.parse(text) as unknown,
    (err: unknown) => {
      if (err instanceof ShoalError) throw err;
      return null;
    },
  );
  if (typeof body !== 'object' || body === null) throw new ShoalError('BAD_REQUEST', 'the body must be a JSON object');
  return body;
}

/**
 * The body as text, refused past `limit` bytes: `/api/login` reads it before anyone is known, and
 * reading it whole took the gateway to 1.3 GB for a 400 MB body from a stranger.
 */
async function smallText(c: Context, limit: number): Promise<string> {
  const tooLarge = () => new ShoalError('FILE_TOO_LARGE', `a JSON body may be at most ${limit} bytes`);
  if (Number(c.req.header('content-length') ?? 0) > limit) throw tooLarge();
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of requestBody(c) ?? []) {
    size += piece.length;
    if (size > limit) throw tooLarge();
    pieces.push(piece);
  }
  return Buffer.concat(pieces, size).toString('utf8');
}

function sessionInfo(caller: Caller): SessionInfo {
  const { id, name, role } = caller.token;
  return { tokenId: id, name, role, via: caller.via };
}
