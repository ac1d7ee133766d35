/**
 * How busy and how quick each node has been at reads, so that a chunk is asked first of the
 * replica likely to answer soonest: a download with several chunks in flight spreads them over
 * the replicas, and one slow or stalled node, whose reads pile up or age, stops being asked.
 */
export class ReadLoad {
  readonly #nodes = new Map<string, { started: Set<number>; ms: number }>();

  /** Starts a read from `nodeId`; call the result when it ends, `ok` when it brought good bytes. */
  begin(nodeId: string): (ok: boolean) => void {
    const node = this.#nodes.get(nodeId) ?? { started: new Set<number>(), ms: 0 };
    this.#nodes.set(nodeId, node);
    // A unique key: two reads may start within one tick of the clock.
    let at = performance.now();
    while (node.started.has(at)) at += 1e-6;
    node.started.add(at);
    return (ok) => {
      node.started.delete(at);
      const took = performance.now() - at;
      if (ok) node.ms = node.ms === 0 ? took : 0.8 * node.ms + 0.2 * took;
    };
  }

  /**
   * `nodeIds` soonest-expected first: reads outstanding plus this one, times how long one takes
   * there, or how long its oldest outstanding read has waited if that is longer. Equals are in
   * random order, so idle replicas share the load.
   */
  order(nodeIds: string[]): string[] {
    const now = performance.now();
    const cost = new Map(nodeIds.map((id) => [id, this.#cost(id, now)]));
    return shuffle([...nodeIds]).sort((a, b) => cost.get(a)! - cost.get(b)!);
  }

  #cost(nodeId: string, now: number): number {
    const node = this.#nodes.get(nodeId);
    if (!node) return 1;
    let oldest = now;
    for (const at of node.started) oldest = Math.min(oldest, at);
    return (node.started.size + 1) * Math.max(1, node.ms, now - oldest);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
