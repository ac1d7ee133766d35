import type { NodeCopies, ReplicationSummary } from './metadata-store.ts';

/** One row of the per-node counts both stores keep (node_copies): live chunks a node holds, by their number of copies. */
export interface NodeCopiesRow {
  node_id: string;
  copies: number;
  chunks: number;
}

/** What the stores count with an index, besides the per-node counts: files, live chunks short of copies, and without any. */
export interface LiveCounts {
  files: number;
  /** Live chunks with fewer copies than the replica count. */
  short: number;
  /** Live chunks with no copy. */
  missing: number;
}

/**
 * Health's and the nodes page's figures from the per-node counts, so that neither reads a copy
 * per chunk. A chunk with c copies is counted once under each of its c holders at c, so the live
 * chunks with copies are the sum of each bucket over c, and the ones a single node's absence
 * leaves short are that node's bucket R (one left: bucket 1).
 */
export class CopyCounts {
  readonly #byNode = new Map<string, Map<number, number>>();

  constructor(rows: NodeCopiesRow[]) {
    for (const row of rows) {
      if (row.chunks === 0) continue;
      let buckets = this.#byNode.get(row.node_id);
      if (!buckets) this.#byNode.set(row.node_id, (buckets = new Map()));
      buckets.set(row.copies, (buckets.get(row.copies) ?? 0) + row.chunks);
    }
  }

  get holders(): string[] {
    return [...this.#byNode.keys()];
  }

  /**
   * Health's counts when at most one holder is unreadable, or at most one readable; undefined
   * otherwise: which chunks several unreadable nodes share is not in the counts.
   */
  summary(live: LiveCounts, readable: string[], replicas: number): ReplicationSummary | undefined {
    const open = new Set(readable);
    const unreadable = this.holders.filter((id) => !open.has(id));
    const reachable = this.holders.filter((id) => open.has(id));
    const withCopies = this.#chunksWithCopies();
    const chunks = live.missing + withCopies;
    if (unreadable.length <= 1) {
      const gone = unreadable[0];
      return {
        files: live.files,
        chunks,
        underReplicated: live.short + (gone === undefined ? 0 : this.#count(gone, (c) => c === replicas)),
        unavailable: live.missing + (gone === undefined ? 0 : this.#count(gone, (c) => c === 1)),
      };
    }
    if (reachable.length <= 1) {
      // Each chunk has at most the one copy on the node left: read where it has one, short wherever R exceeds that.
      const onIt = reachable[0] === undefined ? 0 : this.#count(reachable[0], () => true);
      return {
        files: live.files,
        chunks,
        underReplicated: replicas > 1 ? chunks : chunks - onIt,
        unavailable: chunks - onIt,
      };
    }
    return undefined;
  }

  /**
   * Each holder's copies, and those at risk without it: every chunk with no more than R copies;
   * `surplusAtRisk` adds those with more whose other writable copies are still fewer than R.
   */
  perNode(replicas: number, surplusAtRisk: Map<string, number>): Map<string, NodeCopies> {
    const result = new Map<string, NodeCopies>();
    for (const id of this.holders) {
      result.set(id, { recordedChunks: this.#count(id, () => true), atRiskChunks: this.#count(id, (c) => c <= replicas) + (surplusAtRisk.get(id) ?? 0) });
    }
    return result;
  }

  /** Whether every holder is among `writable`: then no chunk with more than R copies is at risk. */
  allWritable(writable: string[]): boolean {
    const set = new Set(writable);
    return this.holders.every((id) => set.has(id));
  }

  #count(id: string, copies: (c: number) => boolean): number {
    let sum = 0;
    for (const [c, n] of this.#byNode.get(id) ?? []) if (copies(c)) sum += n;
    return sum;
  }

  #chunksWithCopies(): number {
    const perCopies = new Map<number, number>();
    for (const buckets of this.#byNode.values()) for (const [c, n] of buckets) perCopies.set(c, (perCopies.get(c) ?? 0) + n);
    let sum = 0;
    for (const [c, n] of perCopies) if (c > 0) sum += n / c;
    return Math.round(sum);
  }
}

/** The queries a store answers health's and the nodes page's figures with. */
export interface CountQueries {
  /** The per-node counts. */
  nodes(): Promise<NodeCopiesRow[]>;
  /** The per-node counts and the live counts, read together. */
  counts(replicas: number): Promise<LiveCounts & { nodes: NodeCopiesRow[] }>;
  /** Health's counts read from the unreadable holders' copies, for when the per-node counts cannot tell. */
  scan(readable: string[], replicas: number): Promise<ReplicationSummary>;
  /** Per holder, the live chunks with more than R copies that have fewer than R on `writable` nodes other than it. */
  surplusAtRisk(writable: string[], replicas: number): Promise<Array<{ node_id: string; chunks: number }>>;
}

export async function countReplication(queries: CountQueries, readable: string[], replicas: number): Promise<ReplicationSummary> {
  const { nodes, ...live } = await queries.counts(replicas);
  return new CopyCounts(nodes).summary(live, readable, replicas) ?? queries.scan(readable, replicas);
}

export async function countPerNode(queries: CountQueries, writable: string[], replicas: number): Promise<Map<string, NodeCopies>> {
  const counts = new CopyCounts(await queries.nodes());
  const surplus = counts.allWritable(writable) ? [] : await queries.surplusAtRisk(writable, replicas);
  return counts.perNode(replicas, new Map(surplus.map((row) => [row.node_id, row.chunks])));
}
