import type { RepairStats } from '../../shared/api-types.ts';
import type { GatewayContext } from './context.ts';
import { fetchChunk } from './download.ts';
import { replicationCounts } from './health.ts';
import type { ChunkRecord } from './metadata-store.ts';
import type { NodeLink } from './node-link.ts';
import { rankTargets } from './placement.ts';
import { TokenBucket } from './token-bucket.ts';

export interface RepairOptions {
  /** How long a node may be offline before its replicas are rebuilt elsewhere. */
  repairAfterMs: number;
  /** Bytes per second that repair may copy, so it does not starve user traffic. */
  bytesPerSecond: number;
  concurrency: number;
  /** A full sweep of every chunk runs at least this often, whatever the events. */
  sweepIntervalMs: number;
}

const MAX_STALLED_SWEEPS = 5;

interface Job {
  hash: string;
  /** Lower runs first: the number of good replicas left, so chunks with one copy go first. */
  priority: number;
}

/**
 * Keeps every chunk at R good replicas: online nodes that are not draining. A sweep compares the
 * metadata with who is online and queues the chunks that need work; workers then copy from a
 * surviving replica to the next nodes in rendezvous rank, and remove replicas that are surplus or
 * sit on draining nodes, but only while R good ones remain. Events only make a sweep come sooner.
 */
export class RepairService {
  readonly #ctx: GatewayContext;
  readonly #options: RepairOptions;
  readonly #bucket: TokenBucket;
  readonly #queue = new Map<string, Job>();
  readonly #active = new Set<string>();
  readonly #startedAt = Date.now();
  #done = 0;
  #failed = 0;
  #removed = 0;
  #rebalance = false;
  /** Misplaced chunks at the last sweep, and sweeps since that number last went down. */
  #misplaced = Infinity;
  #stalledSweeps = 0;
  #sweepTimer: ReturnType<typeof setTimeout> | null = null;
  #interval: ReturnType<typeof setInterval> | null = null;
  #sweeping: Promise<void> | null = null;
  #resweep = false;
  #lastPublished = '';
  #publishTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #leftTimers = new Set<ReturnType<typeof setTimeout>>();
  #unsubscribe: () => void = () => {};
  /** Set by stop(): work still in flight must not touch a metadata store that is closing. */
  #stopped = true;

  constructor(ctx: GatewayContext, options: RepairOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#bucket = new TokenBucket(options.bytesPerSecond);
  }

  start(): void {
    this.#stopped = false;
    this.#interval = setInterval(() => this.sweepSoon(0), this.#options.sweepIntervalMs);
    this.#interval.unref();
    this.#unsubscribe = this.#ctx.events.subscribe((event) => {
      if (event.type !== 'node.left') return;
      // Its replicas count as waiting until --repair-after has passed; sweep just after that.
      const timer = setTimeout(() => {
        this.#leftTimers.delete(timer);
        this.sweepSoon(0);
      }, this.#options.repairAfterMs + 100);
      this.#leftTimers.add(timer);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe();
    for (const timer of this.#leftTimers) clearTimeout(timer);
    this.#leftTimers.clear();
    if (this.#interval) clearInterval(this.#interval);
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    if (this.#publishTimer) clearTimeout(this.#publishTimer);
    this.#interval = null;
    this.#sweepTimer = null;
    this.#publishTimer = null;
    this.#queue.clear();
  }

  stats(): RepairStats {
    return { queued: this.#queue.size, active: this.#active.size, done: this.#done, failed: this.#failed, removed: this.#removed, rebalancing: this.#rebalance };
  }

  /** Debounced, so a burst of events (a node with many chunks going away) is one sweep. */
  sweepSoon(delayMs = 200): void {
    if (this.#sweepTimer || this.#stopped) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = null;
      // A sweep that fails (the store busy, a node gone mid-way) is simply tried again at the next one.
      this.sweep().catch(() => {});
    }, delayMs);
  }

  /** Moves chunks toward their rendezvous placement too, at the repair rate, until none is left. */
  rebalance(): void {
    this.#rebalance = true;
    this.#misplaced = Infinity;
    this.#stalledSweeps = 0;
    this.sweepSoon(0);
  }

  async sweep(): Promise<void> {
    if (this.#stopped) return;
    if (this.#sweeping) {
      this.#resweep = true;
      return this.#sweeping;
    }
    this.#sweeping = this.#sweepOnce().finally(() => {
      this.#sweeping = null;
      if (this.#resweep) {
        this.#resweep = false;
        this.sweepSoon(0);
      }
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<void> {
    const chunks = await this.#ctx.metadata.listChunks();
    const offlineSince = await this.#offlineSince();
    let misplaced = 0;
    for (const chunk of chunks) {
      const plan = this.#plan(chunk, offlineSince);
      if (plan.misplaced) misplaced++;
      if (plan.needsWork) this.#enqueue({ hash: chunk.hash, priority: plan.good });
    }
    if (this.#rebalance) {
      this.#stalledSweeps = misplaced < this.#misplaced ? 0 : this.#stalledSweeps + 1;
      this.#misplaced = misplaced;
      const settled = misplaced === 0 && this.#queue.size === 0 && this.#active.size === 0;
      // Chunks that cannot reach their ideal nodes (full, failing) must not keep a rebalance alive forever.
      if (settled || this.#stalledSweeps >= MAX_STALLED_SWEEPS) this.#rebalance = false;
    }
    this.#publish();
    this.#pump();
  }

  /** When each known node was last seen, counting from the gateway's own start so a restart does not look like a long outage. */
  async #offlineSince(): Promise<Map<string, number>> {
    const since = new Map<string, number>();
    for (const node of await this.#ctx.metadata.listNodes()) {
      since.set(node.id, Math.max(this.#startedAt, Date.parse(node.lastSeenAt) || 0));
    }
    return since;
  }

  #plan(chunk: ChunkRecord, offlineSince: Map<string, number>) {
    const { registry, config } = this.#ctx;
    let good = 0;
    let waiting = 0;
    let draining = 0;
    if (!chunk.nodeIds.some((id) => registry.isOnline(id))) return { good: 0, needsWork: false, misplaced: false };
    for (const id of chunk.nodeIds) {
      const link = registry.get(id);
      if (registry.isGood(id)) good++;
      else if (link?.draining) draining++;
      else if (!link && Date.now() - (offlineSince.get(id) ?? 0) < this.#options.repairAfterMs) waiting++;
    }
    const misplaced = this.#rebalance && this.#ideal(chunk).some((link) => !chunk.nodeIds.includes(link.id));
    const needsWork = good + waiting < config.replicas || good > config.replicas || (draining > 0 && good >= config.replicas) || misplaced;
    return { good, needsWork, misplaced };
  }

  /** The nodes the placement rule picks for this chunk among those that could take it now. */
  #ideal(chunk: ChunkRecord): NodeLink[] {
    return rankTargets(chunk.hash, chunk.size, this.#ctx.registry.writable(), chunk.nodeIds).slice(0, this.#ctx.config.replicas);
  }

  #enqueue(job: Job): void {
    if (this.#active.has(job.hash)) return;
    const queued = this.#queue.get(job.hash);
    if (!queued || job.priority < queued.priority) this.#queue.set(job.hash, job);
  }

  #pump(): void {
    while (!this.#stopped && this.#active.size < this.#options.concurrency && this.#queue.size > 0) {
      let next: Job | undefined;
      for (const job of this.#queue.values()) if (!next || job.priority < next.priority) next = job;
      this.#queue.delete(next!.hash);
      this.#active.add(next!.hash);
      void this.#converge(next!.hash)
        .catch(() => {
          this.#failed++;
        })
        .finally(() => {
          this.#active.delete(next!.hash);
          this.#publish();
          this.#pump();
        });
    }
  }

  /**
   * Brings one chunk to R good replicas, then trims what is surplus. The replica rows are read
   * again before every decision: the sweep's view, or even the one from before the read, may be
   * stale (reading can find a replica lost and drop its record).
   */
  async #converge(hash: string): Promise<void> {
    const { config, replicator, registry } = this.#ctx;
    let chunk = await this.#current(hash);
    if (!chunk) return;
    const good = (c: ChunkRecord) => c.nodeIds.filter((id) => registry.isGood(id)).length;
    const misplacedOn = (c: ChunkRecord) => (this.#rebalance ? this.#ideal(c).filter((link) => !c.nodeIds.includes(link.id)) : []);
    if (good(chunk) < config.replicas || misplacedOn(chunk).length > 0) {
      await this.#bucket.take(chunk.size);
      const data = await fetchChunk(this.#ctx, hash, chunk.nodeIds);
      chunk = await this.#current(hash);
      if (!chunk) return;
      for (const link of misplacedOn(chunk)) {
        await link.put(hash, data);
        await this.#recordNew(hash, link.id);
      }
      chunk = await this.#current(hash);
      if (!chunk) return;
      for (const id of await replicator.ensure(hash, data, chunk.nodeIds, config.replicas)) await this.#recordNew(hash, id);
    }
    await this.#trim(hash);
  }

  async #current(hash: string): Promise<ChunkRecord | undefined> {
    return (await this.#ctx.metadata.getChunks([hash])).get(hash);
  }

  async #recordNew(hash: string, nodeId: string): Promise<void> {
    await this.#ctx.metadata.addReplica(hash, nodeId);
    this.#done++;
  }

  /**
   * Deletes replicas on draining nodes, and good replicas beyond R (those the placement rule likes
   * least first), never leaving fewer than R good replicas that have acknowledged a durable write.
   * A chunk an upload has pinned is left alone: the upload may be counting on those copies.
   */
  async #trim(hash: string): Promise<void> {
    const { registry, config, metadata, pins } = this.#ctx;
    const chunk = await this.#current(hash);
    if (!chunk || pins.has(hash)) return;
    const ideal = new Set(this.#ideal(chunk).map((link) => link.id));
    const online = chunk.nodeIds.map((id) => registry.get(id)).filter((l): l is NodeLink => Boolean(l?.ready));
    const good = online.filter((l) => !l.draining);
    if (good.length < config.replicas) return;
    const surplus = good
      .filter((l) => !ideal.has(l.id))
      .concat(good.filter((l) => ideal.has(l.id)).reverse())
      .slice(0, good.length - config.replicas);
    for (const link of [...online.filter((l) => l.draining), ...surplus]) {
      // The record goes first: a delete that times out after it happened must not leave a row
      // claiming a copy that is gone. A delete that really failed leaves an unrecorded copy, which
      // the node's next inventory reports and this trim removes again.
      await metadata.removeReplica(hash, link.id);
      try {
        await link.delete([hash]);
        this.#removed++;
      } catch {
        this.#failed++;
      }
    }
  }

  /** At most a few progress events a second, however fast jobs finish. */
  #publish(): void {
    if (this.#publishTimer || this.#stopped) return;
    this.#publishTimer = setTimeout(async () => {
      this.#publishTimer = null;
      const stats = this.stats();
      const chunks = await this.#ctx.metadata.listChunks().catch(() => null);
      if (chunks === null || this.#stopped) return;
      const underReplicatedChunks = replicationCounts(this.#ctx, chunks).underReplicated;
      const key = JSON.stringify({ stats, underReplicatedChunks });
      if (key === this.#lastPublished) return;
      this.#lastPublished = key;
      this.#ctx.events.publish({ type: 'repair.progress', ...stats, underReplicatedChunks });
    }, 250);
  }

}
