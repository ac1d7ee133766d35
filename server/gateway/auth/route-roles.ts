import type { Role } from './roles.ts';

/** What a call to the API needs: no one (logging in), or a token of at least this role. */
export type Requirement = 'public' | Role;

/** Route families whose GET and HEAD only read what every reader may see. */
const READ_FAMILIES = new Set(['files', 'nodes', 'health', 'events', 'chunks', 'stats', 'gateways']);

/**
 * The one table of who may call what under /api. Reading is `read`; changing files (and resumable
 * uploads) is `write`; everything else (node administration, rebalance, scrub, collection, invites,
 * tokens, and any route added later until it is listed here) is `admin`, so a new
 * route is never open by mistake.
 */
export function requiredRole(method: string, path: string): Requirement {
  if (path === '/api/login' && method === 'POST') return 'public';
  // Any caller may look at, end, or hand a browser its own login: none of it reaches past its role.
  if (path === '/api/session' || path === '/api/logout' || path === '/api/login-links') return 'read';
  const family = /^\/api\/([^/]+)/.exec(path)?.[1] ?? '';
  if (family === 'uploads' || (family === 'files' && (method === 'PUT' || method === 'DELETE'))) return 'write';
  if ((method === 'GET' || method === 'HEAD') && READ_FAMILIES.has(family)) return 'read';
  return 'admin';
}
