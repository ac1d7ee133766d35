import { formatBytes, formatRate } from './units.ts';

/**
 * A one-line progress bar on stderr for transfers big enough to watch. Off when stderr is not a
 * terminal, so scripts and logs get only the final result line.
 */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  readonly #startedAt = Date.now();
  #done = 0;
  #lastDrawAt = 0;

  constructor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#total = total;
    this.#enabled = Boolean(stream.isTTY) && total >= 8 * 1024 * 1024;
  }

  /** `done`: the bytes moved so far. */
  update(done: number): void {
    this.#done = done;
    const now = Date.now();
    if (this.#enabled && now - this.#lastDrawAt > 100) {
      this.#lastDrawAt = now;
      this.#draw();
    }
  }

  finish(): { bytes: number; seconds: number } {
    if (this.#enabled) {
      this.#draw();
      process.stderr.write('\n');
    }
    return { bytes: this.#done, seconds: (Date.now() - this.#startedAt) / 1000 };
  }

  #draw(): void {
    const width = 28;
    const fraction = this.#total > 0 ? Math.min(1, this.#done / this.#total) : 1;
    const filled = Math.round(fraction * width);
    const seconds = Math.max(0.001, (Date.now() - this.#startedAt) / 1000);
    process.stderr.write(
      `\r${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${formatBytes(this.#done)}/${formatBytes(this.#total)} ${formatRate(this.#done / seconds)}   `,
    );
  }
}
