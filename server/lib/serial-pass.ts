/**
 * Background work run as passes, never two at once. A call while a pass runs is not dropped: what
 * prompted it (a node joining, say) may be just what the running pass lacked, so one more pass runs
 * once it ends, however many calls came meanwhile. A pass that fails is the work's own business.
 */
export class SerialPass {
  readonly #work: () => Promise<void>;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(work: () => Promise<void>) {
    this.#work = work;
  }

  /** Starts a pass, or asks for one after the pass under way; resolves when no pass is running or asked for. */
  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#work().catch(() => {});
      } while (this.#again);
      this.#running = null;
    })();
    return this.#running;
  }
}
