import { Hono } from 'hono';
import type { NodeAdmin } from '../healing/node-admin.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ClusterStatus } from '../status/cluster-status.ts';

/** `/api/nodes`: every node with its safety, and drain, undrain, trust and remove. */
export function nodeRoutes(registry: NodeRegistry, admin: NodeAdmin, status: ClusterStatus): Hono {
  const nodes = new Hono();

  nodes.get('/', async (c) => c.json({ nodes: await status.nodes() }));

  nodes.post('/:id/drain', async (c) => {
    await admin.setDraining(c.req.param('id'), true);
    return c.json({ node: await registry.view(c.req.param('id')) });
  });

  nodes.post('/:id/undrain', async (c) => {
    await admin.setDraining(c.req.param('id'), false);
    return c.json({ node: await registry.view(c.req.param('id')) });
  });

  nodes.post('/:id/trust', async (c) => {
    await admin.trust(c.req.param('id'));
    return c.json({ node: await registry.view(c.req.param('id')) });
  });

  nodes.delete('/:id', async (c) => {
    const force = c.req.query('force');
    await admin.remove(c.req.param('id'), force === '1' || force === 'true');
    return c.body(null, 204);
  });

  return nodes;
}
