import type { NodePresence } from './node-presence.ts';
import type { NodeRegistry } from './node-registry.ts';

export interface JointLivenessOptions {
  /** How often this gateway says whom it hears and reads whom the others hear: its node heartbeat. */
  intervalMs: number;
  /** A node no gateway has heard for this long is offline. */
  offlineAfterMs: number;
}

/**
 * Liveness judged by the gateways together. Every interval this gateway writes the nodes it hears
 * (one statement), says which it stopped hearing, and hands the registry the nodes the others
 * heard within offlineAfterMs. Times are the store's clock (the database's, on PostgreSQL), so the
 * gateways' clocks need not agree. When the database cannot be read, what was heard ages out as it
 * would, timed by this process's monotonic clock from the last read.
 */
export class JointLiveness {
  readonly #gatewayId: string;
  readonly #registry: NodeRegistry;
  readonly #presence: NodePresence;
  readonly #options: JointLivenessOptions;
  #hearing = new Set<string>();
  /** Nodes the others heard at the last read, with how many ms before it; and when (performance.now()) that read was. */
  #others = new Map<string, number>();
  #readAt = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #ticking: Promise<void> | null = null;

  constructor(gatewayId: string, registry: NodeRegistry, presence: NodePresence, options: JointLivenessOptions) {
    this.#gatewayId = gatewayId;
    this.#registry = registry;
    this.#presence = presence;
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#options.intervalMs);
    this.#timer.unref();
    void this.tick();
  }

  /** Stops, and says this gateway hears no node now: the others need not wait for its rows to age. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
    await this.#presence.left(this.#gatewayId).catch(() => {});
  }

  /** One round; a round still running is not doubled. */
  tick(): Promise<void> {
    this.#ticking ??= this.#round().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  async #round(): Promise<void> {
    const hearing = new Set(this.#registry.readableLinks().map((link) => link.id));
    const stopped = [...this.#hearing].filter((id) => !hearing.has(id));
    const { offlineAfterMs } = this.#options;
    try {
      await this.#presence.heard(this.#gatewayId, [...hearing]);
      if (stopped.length > 0) await this.#presence.left(this.#gatewayId, stopped);
      this.#hearing = hearing;
      this.#others = await this.#presence.heardWithin(offlineAfterMs, this.#gatewayId);
      this.#readAt = performance.now();
    } catch {
      const since = performance.now() - this.#readAt;
      this.#others = new Map([...this.#others].filter(([, ago]) => ago + since < offlineAfterMs));
      this.#readAt += since;
      for (const [id, ago] of this.#others) this.#others.set(id, ago + since);
    }
    // When, for the dashboard, on this gateway's clock: the same as its own links' times.
    const now = Date.now();
    await this.#registry.heardByOthers(new Map([...this.#others].map(([id, ago]) => [id, new Date(now - ago).toISOString()])));
  }
}
