/** Paces work to a rate (bytes, frames: any unit); a burst of one second's worth is allowed. */
export class TokenBucket {
  readonly #rate: number;
  #tokens: number;
  #updatedAt = Date.now();

  constructor(perSecond: number) {
    this.#rate = perSecond;
    this.#tokens = perSecond;
  }

  async take(amount: number): Promise<void> {
    for (;;) {
      this.#refill();
      // A request larger than the burst is let through once the bucket is full, rather than never.
      if (this.#tokens >= Math.min(amount, this.#rate)) {
        this.#tokens -= amount;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, ((Math.min(amount, this.#rate) - this.#tokens) / this.#rate) * 1000));
    }
  }

  /** Takes `amount` if the bucket holds it now: for callers that refuse what is over the rate rather than wait. */
  tryTake(amount: number): boolean {
    this.#refill();
    if (this.#tokens < amount) return false;
    this.#tokens -= amount;
    return true;
  }

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }
}
