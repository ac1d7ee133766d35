import { Hono } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { AccessKeys } from './access-keys.ts';

/** `/api/s3/keys` on the native API: make, list and revoke S3 access keys (admin only: not in the route table's lesser roles). */
export function s3KeyRoutes(keys: AccessKeys): Hono {
  const routes = new Hono();
  routes.get('/', async (c) => c.json({ keys: await keys.list() }));
  routes.post('/', async (c) => {
    if (!(c.req.header('content-type') ?? '').startsWith('application/json')) throw new ShoalError('BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
    const body: unknown = await c.req.json().catch(() => null);
    if (typeof body !== 'object' || body === null) throw new ShoalError('BAD_REQUEST', 'the body must be a JSON object');
    return c.json(await keys.create(body), 201);
  });
  routes.delete('/:id', async (c) => {
    await keys.revoke(c.req.param('id'));
    return c.body(null, 204);
  });
  return routes;
}
