import type { MiddlewareHandler } from 'hono';

/**
 * Headers on every answer that keep a browser from using the gateway's pages and files against
 * it: no MIME sniffing (a stored file is never run as a script or page), no framing (clickjacking
 * of the dashboard's buttons), no Referer to other sites (invite links carry tokens), and a CSP
 * that lets the web app load only its own scripts and talk only to its own origin, and to the node
 * sockets of the cluster's other gateways (`peerSockets`), which a tab that is a node links to too.
 * Inline styles stay allowed: the page's theme is an inline <style> and lit sets style
 * attributes; no script runs inline.
 */
export function securityHeaders(peerSockets: () => readonly string[] = () => []): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const host = c.req.header('host');
    const own = host && /^[a-z0-9.\-[\]:]+$/i.test(host) ? ` ws://${host} wss://${host}` : '';
    const sockets = own + peerSockets().map((source) => ` ${source}`).join('');
    // Set on the answer's own headers: c.header() on an answer already made rebuilds it around its
    // body as a stream, each call, which cost a small download more than all the rest of its answer.
    const headers = c.res.headers;
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('X-Frame-Options', 'DENY');
    headers.set('Referrer-Policy', 'no-referrer');
    headers.set(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'${sockets}; ` +
        `object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
  };
}
