/** What one call of a batch came to: its value, or the error that failed it alone. */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * Group commit for a synchronous store. Calls that arrive while a batch is being made durable wait
 * for it, then run together as the next batch: under load one transaction, and one fsync, covers
 * every commit that arrived meanwhile, and the fsync (`durable`) runs off the event loop. A call
 * resolves only once its batch is durable; alone, it waits one turn of the loop. `run` answers each
 * item on its own, so an item that fails fails only its caller.
 */
export class GroupCommit<I, O> {
  readonly #run: (items: I[]) => Array<Outcome<O>>;
  readonly #durable: () => Promise<void>;
  #queue: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  #flushing = false;

  constructor(run: (items: I[]) => Array<Outcome<O>>, durable: () => Promise<void> = async () => {}) {
    this.#run = run;
    this.#durable = durable;
  }

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ item, resolve, reject }) === 1 && !this.#flushing) setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const batch = this.#queue;
    this.#queue = [];
    try {
      const outcomes = this.#run(batch.map((call) => call.item));
      await this.#durable();
      batch.forEach((call, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) call.resolve(outcome.value);
        else call.reject(outcome.error);
      });
    } catch (error) {
      for (const call of batch) call.reject(error);
    } finally {
      this.#flushing = false;
      if (this.#queue.length > 0) setImmediate(() => void this.#flush());
    }
  }
}
