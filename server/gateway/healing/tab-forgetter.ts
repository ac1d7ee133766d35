import type { NodeInfo } from '../../../shared/api-types.ts';

export interface TabForgetterOptions {
  /** How long a browser node must have been gone; 0 keeps every node. */
  afterMs: number;
  /** How often to look. */
  intervalMs: number;
}

/** Where the forgetter reads the nodes and removes one: ClusterStatus and NodeAdmin. */
export interface TabForgetterDeps {
  nodes(): Promise<NodeInfo[]>;
  remove(id: string, force: boolean): Promise<void>;
}

/**
 * Forgets browser nodes that have been offline longer than --forget-tabs-after and hold no chunk
 * the gateway records: a closed tab that never comes back would otherwise stay listed, and
 * counted, for good. A tab that still holds recorded chunks is kept (it may come back with them,
 * or an admin removes it once repair has made its copies elsewhere); disk nodes are never forgotten.
 */
export class TabForgetter {
  readonly #deps: TabForgetterDeps;
  readonly #options: TabForgetterOptions;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(deps: TabForgetterDeps, options: TabForgetterOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  start(): void {
    if (this.#options.afterMs <= 0 || this.#timer) return;
    // A sweep that fails (the store closing, a node back mid-way) is tried again at the next one.
    this.#timer = setInterval(() => void this.sweep().catch(() => {}), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Forgets the tabs gone long enough now; returns their ids. */
  async sweep(now = Date.now()): Promise<string[]> {
    const forgotten: string[] = [];
    for (const node of await this.#deps.nodes()) {
      if (!this.#forgettable(node, now)) continue;
      // Not forced: the gateway's own safety check has the last word.
      await this.#deps.remove(node.id, false);
      forgotten.push(node.id);
    }
    return forgotten;
  }

  #forgettable(node: NodeInfo, now: number): boolean {
    return node.kind === 'browser' && node.status === 'offline' && node.recordedChunks === 0 && now - Date.parse(node.lastSeenAt) > this.#options.afterMs;
  }
}

/** Often enough that a tab goes soon after its time, seldom enough to cost nothing. */
export function forgetInterval(afterMs: number): number {
  return Math.min(10 * 60_000, Math.max(1000, afterMs / 4));
}
