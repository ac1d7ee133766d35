import { Hono } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { InviteRequest, Invites } from '../nodes/invites.ts';

/** `/api/invites`: make, list and revoke the invites that let browser tabs join as nodes. */
export function inviteRoutes(invites: Invites): Hono {
  const routes = new Hono();

  routes.get('/', async (c) => c.json({ invites: await invites.list() }));

  routes.post('/', async (c) => {
    const request = (await c.req.json().catch(() => {
      throw new ShoalError('BAD_REQUEST', 'the body must be JSON');
    })) as InviteRequest;
    const { invite, token } = await invites.create(request ?? {});
    const url = new URL(`/node?invite=${encodeURIComponent(token)}`, c.req.url).href;
    return c.json({ invite, token, url }, 201);
  });

  routes.delete('/:id', async (c) => {
    await invites.revoke(c.req.param('id'));
    return c.body(null, 204);
  });

  return routes;
}
