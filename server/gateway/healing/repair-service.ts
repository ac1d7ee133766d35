import type { RepairStats } from '../../../shared/api-types.ts';
import { TokenBucket } from '../../lib/token-bucket.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { ChunkRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeLink } from '../nodes/node-link.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import { rankTargets } from '../replicas/placement.ts';
import { replicationSummary } from '../replicas/replica-counts.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import { sweepPages, type SweepPage } from './chunk-sweep.ts';

export interface RepairOptions {
  replicas: number;
  /** How long a node may be offline before its replicas are rebuilt elsewhere. */
  repairAfterMs: number;
  /** Bytes per second that repair may copy, so it does not starve user traffic. */
  bytesPerSecond: number;
  concurrency: number;
  /** A full sweep of every chunk runs at least this often, whatever the events. */
  sweepIntervalMs: number;
}

const MAX_STALLED_SWEEPS = 5;

/** Jobs queued at most: a sweep pauses its pass there, and goes on once workers have taken half. */
const MAX_QUEUED = 10_000;

/** A sweep's walk over the chunks that may need work (chunk-sweep.ts), paused while the queue is full. */
interface SweepPass {
  pages: AsyncGenerator<SweepPage>;
  /** Misplaced chunks met so far. */
  misplaced: number;
}

interface Job {
  hash: string;
  /** Lower runs first: the number of good replicas left, so chunks with one copy go first. */
  priority: number;
}

/**
 * Keeps every chunk at R good replicas: online nodes that are not draining. A sweep compares the
 * metadata with who is online and queues the chunks that need work; workers then copy from a
 * surviving replica to the next nodes its partition lists (placement.ts), and remove replicas
 * that are surplus or sit on draining nodes, but only while R good ones remain and have just been
 * read back intact.
 * Events (a node left, joined or was removed, a copy was lost) only make a sweep come sooner.
 */
export class RepairService {
  readonly #replicas: ReplicaStore;
  readonly #registry: NodeRegistry;
  readonly #metadata: MetadataStore;
  readonly #events: EventBus;
  readonly #options: RepairOptions;
  readonly #bucket: TokenBucket;
  readonly #queue = new Map<string, Job>();
  readonly #active = new Set<string>();
  readonly #startedAt = Date.now();
  #done = 0;
  #failed = 0;
  #lastFailure: { reason: string; at: string } | null = null;
  #removed = 0;
  #rebalance = false;
  /** Misplaced chunks at the last sweep, and sweeps since that number last went down. */
  #misplaced = Infinity;
  #stalledSweeps = 0;
  #sweepTimer: ReturnType<typeof setTimeout> | null = null;
  #interval: ReturnType<typeof setInterval> | null = null;
  #sweeping: Promise<void> | null = null;
  #pass: SweepPass | null = null;
  #freshPass = false;
  #resweep = false;
  #lastPublished = '';
  #publishTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #leftTimers = new Set<ReturnType<typeof setTimeout>>();
  #unsubscribe: () => void = () => {};
  /** Set by stop(): work still in flight must not touch a metadata store that is closing. */
  #stopped = true;

  constructor(replicas: ReplicaStore, registry: NodeRegistry, metadata: MetadataStore, events: EventBus, options: RepairOptions) {
    this.#replicas = replicas;
    this.#registry = registry;
    this.#metadata = metadata;
    this.#events = events;
    this.#options = options;
    this.#bucket = new TokenBucket(options.bytesPerSecond);
  }

  start(): void {
    this.#stopped = false;
    this.#interval = setInterval(() => this.#schedule(0), this.#options.sweepIntervalMs);
    this.#interval.unref();
    this.#unsubscribe = this.#events.subscribe((event) => {
      if (event.type === 'replica.lost' || event.type === 'node.joined') this.sweepSoon();
      else if (event.type === 'node.removed') this.sweepSoon(0);
      else if (event.type === 'node.left') this.#sweepAfterRepairDelay();
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
    this.#pass = null;
  }

  /** A departed node's copies count as waiting until --repair-after has passed; sweep just after that. */
  #sweepAfterRepairDelay(): void {
    const timer = setTimeout(() => {
      this.#leftTimers.delete(timer);
      this.sweepSoon(0);
    }, this.#options.repairAfterMs + 100);
    this.#leftTimers.add(timer);
  }

  stats(): RepairStats {
    return { queued: this.#queue.size, active: this.#active.size, done: this.#done, failed: this.#failed, lastFailure: this.#lastFailure, removed: this.#removed, rebalancing: this.#rebalance };
  }

  /** An admin has read why jobs failed: the count starts again from 0. */
  clearFailures(): RepairStats {
    this.#failed = 0;
    this.#lastFailure = null;
    this.#publish();
    return this.stats();
  }

  #fail(count: number, reason: string): void {
    this.#failed += count;
    this.#lastFailure = { reason, at: new Date().toISOString() };
  }

  /**
   * Debounced, so a burst of events (a node with many chunks going away) is one sweep. Something
   * changed: a pass under way is dropped for a new one, which reads what needs repair first.
   */
  sweepSoon(delayMs = 200): void {
    this.#freshPass = true;
    this.#schedule(delayMs);
  }

  /** A sweep that goes on with the pass under way, if any: the interval's, and the workers' once they have room. */
  #schedule(delayMs: number): void {
    if (this.#sweepTimer || this.#stopped) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = null;
      // A sweep that fails (the store busy, a node gone mid-way) is simply tried again at the next one.
      this.sweep().catch(() => {});
    }, delayMs);
  }

  /** Moves chunks toward the nodes their partition lists too, at the repair rate, until none is left. */
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
        this.#schedule(0);
      }
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<void> {
    if (this.#freshPass) this.#pass = null;
    this.#freshPass = false;
    const offlineSince = await this.#offlineSince();
    const pass = (this.#pass ??= await this.#newPass(offlineSince));
    while (!this.#stopped && this.#queue.size < MAX_QUEUED) {
      const page = await pass.pages.next();
      if (page.done) {
        if (this.#pass === pass) this.#pass = null;
        this.#passEnded(pass.misplaced);
        break;
      }
      for (const chunk of page.value.chunks) {
        const plan = this.#plan(chunk, offlineSince);
        // Counted once each, in the walk over every chunk.
        if (plan.misplaced && 'all' in page.value.select) pass.misplaced++;
        if (plan.needsWork) this.#enqueue({ hash: chunk.hash, priority: plan.good });
      }
    }
    this.#publish();
    this.#pump();
  }

  /**
   * The copies of a node whose repair waits need no look: a chunk of them needs work only if it is
   * short or over R (read by copies anyway) or also on a node not waiting. Nor do any while no
   * node can be read: there is nothing to copy from.
   */
  async #newPass(offlineSince: Map<string, number>): Promise<SweepPass> {
    const all = this.#rebalance;
    const readable = this.#registry.readableLinks().length > 0;
    const unwritable = readable ? (await this.#metadata.holders()).filter((id) => !this.#registry.writable(id) && !this.#waiting(id, offlineSince)) : [];
    return { pages: sweepPages(this.#metadata, { replicas: this.#options.replicas, unwritable, all }), misplaced: 0 };
  }

  #passEnded(misplaced: number): void {
    if (this.#rebalance) {
      this.#stalledSweeps = misplaced < this.#misplaced ? 0 : this.#stalledSweeps + 1;
      this.#misplaced = misplaced;
      const settled = misplaced === 0 && this.#queue.size === 0 && this.#active.size === 0;
      // Chunks that cannot reach their ideal nodes (full, failing) must not keep a rebalance alive forever.
      if (settled || this.#stalledSweeps >= MAX_STALLED_SWEEPS) this.#rebalance = false;
    }
  }

  /** When each known node was last seen, counting from the gateway's own start so a restart does not look like a long outage. */
  async #offlineSince(): Promise<Map<string, number>> {
    const since = new Map<string, number>();
    for (const node of await this.#metadata.listNodes()) {
      since.set(node.id, Math.max(this.#startedAt, Date.parse(node.lastSeenAt) || 0));
    }
    return since;
  }

  #plan(chunk: ChunkRecord, offlineSince: Map<string, number>) {
    const registry = this.#registry;
    let good = 0;
    let waiting = 0;
    let draining = 0;
    if (!chunk.nodeIds.some((id) => registry.readable(id))) return { good: 0, needsWork: false, misplaced: false };
    for (const id of chunk.nodeIds) {
      const link = registry.link(id);
      if (link?.writable) good++;
      else if (link?.state === 'draining') draining++;
      else if (this.#waiting(id, offlineSince)) waiting++;
    }
    const misplaced = this.#rebalance && this.#ideal(chunk).some((link) => !chunk.nodeIds.includes(link.id));
    const needsWork = good + waiting < this.#options.replicas || good > this.#options.replicas || (draining > 0 && good >= this.#options.replicas) || misplaced;
    return { good, needsWork, misplaced };
  }

  /** Whether a node's copies still count, though it cannot be written here: another gateway hears it, or it left too recently to repair. */
  #waiting(id: string, offlineSince: Map<string, number>): boolean {
    if (this.#registry.link(id)) return false;
    // A node another gateway hears still holds its copies: this gateway just cannot reach it.
    return this.#registry.heardElsewhere(id) || Date.now() - (offlineSince.get(id) ?? 0) < this.#options.repairAfterMs;
  }

  /** The nodes the placement rule picks for this chunk among those that could take it now. */
  #ideal(chunk: ChunkRecord): NodeLink[] {
    return rankTargets(chunk.hash, chunk.size, this.#registry.writableLinks(), this.#options.replicas, { holding: chunk.nodeIds }).slice(0, this.#options.replicas);
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
        .catch((err: unknown) => this.#fail(1, `chunk ${next!.hash.slice(0, 12)}: ${(err as Error).message}`))
        .finally(() => {
          this.#active.delete(next!.hash);
          this.#publish();
          this.#pump();
          if (this.#pass && this.#queue.size < MAX_QUEUED / 2) this.#schedule(0);
        });
    }
  }

  /**
   * Brings one chunk to R good replicas, then trims what is surplus. The record is read again
   * before every decision: the sweep's view, or even the one from before the read, may be stale
   * (reading can find a copy lost and drop its record).
   */
  async #converge(hash: string): Promise<void> {
    const replicas = this.#options.replicas;
    const chunk = await this.#replicas.current(hash);
    if (!chunk) return;
    const good = chunk.nodeIds.filter((id) => this.#registry.writable(id)).length;
    const misplaced = this.#misplacedOn(chunk).length;
    if (good < replicas || misplaced > 0) {
      // Paid for every copy it writes: a rebalance toward a new placement writes R of most chunks.
      await this.#bucket.take(chunk.size * Math.max(1, replicas - good, misplaced));
      const data = await this.#replicas.read(hash, chunk.nodeIds);
      const now = await this.#replicas.current(hash);
      for (const link of now ? this.#misplacedOn(now) : []) {
        if (await this.#replicas.copyTo(link, hash, data)) this.#done++;
      }
      // Awaited first: `done += await …` would read the counter before the wait and lose the
      // other worker's increments.
      const restored = await this.#replicas.restore(hash, data, replicas);
      this.#done += restored;
    }
    // A trim reads back the copies it keeps before it removes one: repair traffic like any other.
    const before = await this.#replicas.current(hash);
    if (before && this.#surplus(before).length > 0) await this.#bucket.take(before.size * replicas);
    const { removed, failed } = await this.#replicas.trim(hash, (current) => this.#surplus(current));
    this.#removed += removed;
    if (failed > 0) this.#fail(failed, `chunk ${hash.slice(0, 12)}: a surplus copy could not be removed`);
  }

  /** Nodes the placement rule prefers for this chunk that do not hold it yet, while rebalancing. */
  #misplacedOn(chunk: ChunkRecord): NodeLink[] {
    return this.#rebalance ? this.#ideal(chunk).filter((link) => !chunk.nodeIds.includes(link.id)) : [];
  }

  /**
   * Copies on draining nodes, and good copies beyond R (those the placement rule likes least
   * first); none while fewer than R good copies would be left.
   */
  #surplus(chunk: ChunkRecord): NodeLink[] {
    const replicas = this.#options.replicas;
    const ideal = new Set(this.#ideal(chunk).map((link) => link.id));
    const readable = chunk.nodeIds.map((id) => this.#registry.link(id)).filter((l): l is NodeLink => l?.readable === true);
    const good = readable.filter((l) => l.writable);
    if (good.length < replicas) return [];
    const surplus = good
      .filter((l) => !ideal.has(l.id))
      .concat(good.filter((l) => ideal.has(l.id)).reverse())
      .slice(0, good.length - replicas);
    // The last disk copy stays, as placement keeps one: a tab's copy goes in its place.
    const kept = good.filter((l) => !surplus.includes(l));
    const disk = surplus.findIndex((l) => l.kind === 'disk');
    const tab = kept.findLastIndex((l) => l.kind === 'browser');
    if (disk >= 0 && tab >= 0 && !kept.some((l) => l.kind === 'disk')) surplus[disk] = kept[tab]!;
    return [...readable.filter((l) => l.state === 'draining'), ...surplus];
  }

  /** At most a few progress events a second, however fast jobs finish. */
  #publish(): void {
    if (this.#publishTimer || this.#stopped) return;
    this.#publishTimer = setTimeout(async () => {
      this.#publishTimer = null;
      const stats = this.stats();
      const summary = await replicationSummary(this.#metadata, this.#registry, this.#options.replicas).catch(() => null);
      if (summary === null || this.#stopped) return;
      const underReplicatedChunks = summary.underReplicated;
      const key = JSON.stringify({ stats, underReplicatedChunks });
      if (key === this.#lastPublished) return;
      this.#lastPublished = key;
      this.#events.publish({ type: 'repair.progress', ...stats, underReplicatedChunks });
    }, 250);
  }
}
