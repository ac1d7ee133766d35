/** Paces work to a byte rate; a burst of one second's worth is allowed. */
export class TokenBucket {
  readonly #rate: number;
  #tokens: number;
  #updatedAt = Date.now();

  constructor(bytesPerSecond: number) {
    this.#rate = bytesPerSecond;
    this.#tokens = bytesPerSecond;
  }

  async take(bytes: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
      this.#updatedAt = now;
      // A request larger than the burst is let through once the bucket is full, rather than never.
      if (this.#tokens >= Math.min(bytes, this.#rate)) {
        this.#tokens -= bytes;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, ((Math.min(bytes, this.#rate) - this.#tokens) / this.#rate) * 1000));
    }
  }
}
