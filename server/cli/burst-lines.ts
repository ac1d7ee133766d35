/**
 * Log lines of one kind, at most one a period under a burst: the first goes out at once, those
 * that follow within the period are summed into one line when it ends. A gateway storing
 * thousands of small files a second so logs a few lines a second, not a write to its output per
 * file.
 */
export class BurstLines {
  readonly #log: (line: string) => void;
  readonly #periodMs: number;
  /** Per kind: how many came since its last line, and the amount they add up to; absent when the kind is quiet. */
  readonly #held = new Map<string, { count: number; amount: number }>();

  constructor(log: (line: string) => void, periodMs = 1000) {
    this.#log = log;
    this.#periodMs = periodMs;
  }

  /** `line` now if `kind` is quiet; otherwise counted, and `summary(count, amount)` logged at the end of the period. */
  add(kind: string, line: string, amount: number, summary: (count: number, amount: number) => string): void {
    const held = this.#held.get(kind);
    if (held) {
      held.count++;
      held.amount += amount;
      return;
    }
    this.#log(line);
    this.#hold(kind, summary);
  }

  #hold(kind: string, summary: (count: number, amount: number) => string): void {
    const held = { count: 0, amount: 0 };
    this.#held.set(kind, held);
    setTimeout(() => {
      this.#held.delete(kind);
      if (held.count === 0) return;
      this.#log(summary(held.count, held.amount));
      this.#hold(kind, summary);
    }, this.#periodMs).unref();
  }
}
