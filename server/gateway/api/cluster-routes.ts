import { Hono } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { ChunkCollector } from '../healing/chunk-collector.ts';
import type { NodeAdmin } from '../healing/node-admin.ts';
import type { RepairService } from '../healing/repair-service.ts';
import type { ClusterStatus } from '../status/cluster-status.ts';

/** `/api/health`, `/api/rebalance`, `/api/repair/failures` (clear), `/api/scrub`, `/api/collection/confirm`, and a typed 404 for every other API path. */
export function clusterRoutes(repair: RepairService, collector: ChunkCollector, admin: NodeAdmin, status: ClusterStatus): Hono {
  const cluster = new Hono();

  cluster.get('/health', async (c) => c.json(await status.health()));

  cluster.post('/rebalance', (c) => {
    repair.rebalance();
    return c.json({ repair: repair.stats() }, 202);
  });

  cluster.delete('/repair/failures', (c) => c.json({ repair: repair.clearFailures() }));

  cluster.post('/scrub', (c) => c.json({ nodes: admin.requestScrub() }, 202));

  cluster.post('/collection/confirm', (c) => c.json({ nodes: collector.confirm() }));

  cluster.all('/*', () => {
    throw new ShoalError('NOT_FOUND', 'no such API route');
  });

  return cluster;
}
