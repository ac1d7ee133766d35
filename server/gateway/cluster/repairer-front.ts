import type { OrphanStats, RepairStats } from '../../../shared/api-types.ts';
import type { ChunkCollector } from '../healing/chunk-collector.ts';
import type { RepairService } from '../healing/repair-service.ts';

/** What /api/health shows of the background work, and the admin actions on it. */
export interface RepairerFigures {
  repair: RepairStats;
  orphans: OrphanStats;
}

/**
 * The background work (repair, rebalancing, collection) as the admin API sees it: it runs on the
 * gateway holding the repair lease only, so on any other one these reach that gateway's.
 */
export interface RepairerFront {
  figures(): Promise<RepairerFigures>;
  rebalance(): Promise<RepairStats>;
  clearFailures(): Promise<RepairStats>;
  /** Collection goes on where it paused; names those nodes. */
  confirm(): Promise<string[]>;
}

/** This gateway's own services: all there is on SQLite, and what the repair lease holder runs. */
export function localRepairer(repair: RepairService, collector: ChunkCollector): RepairerFront {
  return {
    figures: async () => ({ repair: repair.stats(), orphans: { pending: collector.pending, collected: collector.collected, paused: collector.paused } }),
    rebalance: async () => {
      repair.rebalance();
      return repair.stats();
    },
    clearFailures: async () => repair.clearFailures(),
    confirm: async () => collector.confirm(),
  };
}
