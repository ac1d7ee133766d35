import { holderGateway } from './lease-holder.ts';
import type { LeaseGrant, LeaseStore } from './lease-store.ts';

/** The share of the time to live after a renewal during which the grant is trusted here. */
const TRUSTED_SHARE = 0.5;

export interface LeaseOptions {
  /** What the lease is for, e.g. 'repair'. */
  name: string;
  /** Who asks: this gateway process (lease-holder.ts processHolder). */
  holder: string;
  /** How long a grant lasts without renewal: what another gateway waits after this one dies. */
  ttlMs: number;
  /** How often to renew, or to ask again while another holds it; well under ttlMs. */
  renewMs: number;
}

/**
 * Keeps asking for one named lease and keeps it renewed while it has it. This gateway counts as
 * holding it only until half the time to live after the start of its last successful renewal, by
 * its own monotonic clock: the database's expiry is at least as late as the full time to live
 * after that, so by the time another gateway may take the lease over, this one has stopped
 * counting itself the holder half a time to live before, even when the database was out of reach
 * meanwhile. Listeners hear each change of `held`.
 */
export class Lease {
  readonly #store: LeaseStore;
  readonly #options: LeaseOptions;
  readonly #listeners = new Set<(held: boolean) => void>();
  #grant: LeaseGrant | null = null;
  /** performance.now() until which the grant may be trusted. */
  #validUntil = 0;
  #held = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #lapse: ReturnType<typeof setTimeout> | null = null;
  #ticking: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;

  constructor(store: LeaseStore, options: LeaseOptions) {
    this.#store = store;
    this.#options = options;
  }

  get name(): string {
    return this.#options.name;
  }

  /** True while this gateway holds the lease and may act on it. */
  get held(): boolean {
    return this.#held && performance.now() < this.#validUntil;
  }

  /** The fencing epoch of the grant this gateway holds, or null. */
  get epoch(): number | null {
    return this.held ? this.#grant!.epoch : null;
  }

  /** The id of the gateway holding the lease now, as the database says; null when nobody does. */
  async holder(): Promise<string | null> {
    const grant = await this.#store.current(this.#options.name);
    return grant ? holderGateway(grant.holder) : null;
  }

  onChange(listener: (held: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Asks at once (resolving once that is answered), then every renewMs. */
  async start(): Promise<void> {
    if (this.#timer) return;
    this.#stopping = null;
    this.#timer = setInterval(() => void this.tick(), this.#options.renewMs);
    this.#timer.unref();
    await this.tick();
  }

  /**
   * Stops asking and gives the lease up, so another gateway takes it over at once rather than after
   * the time to live. No renewal started before counts from the moment it is called.
   */
  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#lapse) clearTimeout(this.#lapse);
    this.#timer = null;
    this.#stopping ??= this.#ticking.then(async () => {
      const grant = this.#grant;
      this.#grant = null;
      this.#set(false);
      if (grant) await this.#store.release(this.#options.name, this.#options.holder, grant.epoch).catch(() => {});
    });
    return this.#stopping;
  }

  /** One renewal, or one attempt to take the lease; never two at once. */
  tick(): Promise<void> {
    this.#ticking = this.#ticking.then(() => this.#tickOnce());
    return this.#ticking;
  }

  async #tickOnce(): Promise<void> {
    const { name, holder, ttlMs } = this.#options;
    const asked = performance.now();
    try {
      const grant = this.#grant ? await this.#store.renew(name, holder, this.#grant.epoch, ttlMs) : await this.#store.acquire(name, holder, ttlMs);
      // Stopped while the database answered: what it granted goes back at once.
      if (this.#timer === null && grant) return void (await this.#store.release(name, holder, grant.epoch).catch(() => {}));
      this.#grant = grant;
      if (!grant) return this.#set(false);
      this.#validUntil = asked + ttlMs * TRUSTED_SHARE;
      if (this.#lapse) clearTimeout(this.#lapse);
      this.#lapse = setTimeout(() => this.#set(this.held), Math.max(0, this.#validUntil - performance.now()) + 1);
      this.#lapse.unref();
      this.#set(true);
    } catch {
      // The database out of reach: the grant, if any, runs out by itself (#lapse) unless a later renewal reaches it.
      this.#set(this.held);
    }
  }

  #set(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    for (const listener of this.#listeners) listener(held);
  }
}
