import { localTime } from './time.ts';

/**
 * Shows a compact status block that redraws in place on a terminal, like the prototype's console
 * dashboards, or logs plain lines when output goes to a file or a pipe.
 */
export class LiveStatus {
  readonly #render: () => Promise<string[]>;
  readonly #tty: boolean;
  #timer: ReturnType<typeof setInterval> | null = null;
  #drawnLines = 0;

  constructor(render: () => Promise<string[]>, stream: NodeJS.WriteStream = process.stdout) {
    this.#render = render;
    this.#tty = Boolean(stream.isTTY) && process.env.CI === undefined;
  }

  start(intervalMs = 1000): void {
    if (!this.#tty) return;
    this.#timer = setInterval(() => void this.#draw(), intervalMs);
    this.#timer.unref();
    void this.#draw();
  }

  /** A plain line: printed as is when logging, or above the status block on a terminal. */
  log(line: string): void {
    const stamped = `${localTime(Date.now())} ${line}`;
    if (!this.#tty) {
      console.log(stamped);
      return;
    }
    this.#clear();
    console.log(stamped);
    void this.#draw();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #draw(): Promise<void> {
    const lines = await this.#render().catch((err: Error) => [`status unavailable: ${err.message}`]);
    this.#clear();
    process.stdout.write(`${lines.join('\n')}\n`);
    this.#drawnLines = lines.length;
  }

  #clear(): void {
    if (this.#drawnLines > 0) process.stdout.write(`\x1b[${this.#drawnLines}F\x1b[J`);
    this.#drawnLines = 0;
  }
}
