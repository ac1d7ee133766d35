/** Bytes per second over the last few seconds, cheap enough to call on every transfer. */
export class RateMeter {
  readonly #windowMs: number;
  readonly #buckets = new Map<number, number>();

  constructor(windowMs = 3000) {
    this.#windowMs = windowMs;
  }

  add(bytes: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    this.#buckets.set(second, (this.#buckets.get(second) ?? 0) + bytes);
  }

  perSecond(now = Date.now()): number {
    const oldest = Math.floor((now - this.#windowMs) / 1000);
    let total = 0;
    for (const [second, bytes] of this.#buckets) {
      if (second <= oldest) this.#buckets.delete(second);
      else total += bytes;
    }
    return Math.round(total / (this.#windowMs / 1000));
  }
}
