import { Hono } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { RepairerFront } from '../cluster/repairer-front.ts';
import type { NodeAdmin } from '../healing/node-admin.ts';
import type { ClusterStatus } from '../status/cluster-status.ts';

/** `/api/health`, `/api/rebalance`, `/api/repair/failures` (clear), `/api/scrub`, `/api/collection/confirm`, and a typed 404 for every other API path. */
export function clusterRoutes(repairer: RepairerFront, admin: NodeAdmin, status: ClusterStatus): Hono {
  const cluster = new Hono();

  // The repair and orphan figures are the repair lease holder's, whichever gateway answers.
  cluster.get('/health', async (c) => c.json({ ...(await status.health()), ...(await repairer.figures()) }));

  cluster.post('/rebalance', async (c) => c.json({ repair: await repairer.rebalance() }, 202));

  cluster.delete('/repair/failures', async (c) => c.json({ repair: await repairer.clearFailures() }));

  cluster.post('/scrub', (c) => c.json({ nodes: admin.requestScrub() }, 202));

  cluster.post('/collection/confirm', async (c) => c.json({ nodes: await repairer.confirm() }));

  cluster.all('/*', () => {
    throw new ShoalError('NOT_FOUND', 'no such API route');
  });

  return cluster;
}
