/** Paces work to a rate (bytes, frames: any unit); a burst of one second's worth is allowed unless told otherwise. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt = Date.now();

  constructor(perSecond: number, burst = perSecond) {
    this.#rate = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
  }

  async take(amount: number): Promise<void> {
    for (;;) {
      this.#refill();
      // A request larger than the burst is let through once the bucket is full, rather than never.
      if (this.#tokens >= Math.min(amount, this.#burst)) {
        this.#tokens -= amount;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.msUntil(Math.min(amount, this.#burst))));
    }
  }

  /** Takes `amount` if the bucket holds it now: for callers that refuse what is over the rate rather than wait. */
  tryTake(amount: number): boolean {
    this.#refill();
    if (this.#tokens < amount) return false;
    this.#tokens -= amount;
    return true;
  }

  /** How long until the bucket holds `amount` (0 if it does now). */
  msUntil(amount: number): number {
    this.#refill();
    return Math.max(0, ((amount - this.#tokens) / this.#rate) * 1000);
  }

  /** Full again: nothing taken is still being paid for. */
  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }
}
