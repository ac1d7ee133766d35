import { css, html, LitElement, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ClusterThroughput } from '../../../shared/api-types.ts';
import { clock, formatRate } from '../common/format.ts';
import { baseStyles } from '../common/styles.ts';

const WIDTH = 600;
const HEIGHT = 140;

/** Rates in bytes per second from the buckets' byte counts. */
function rates(t: ClusterThroughput, key: 'readBytes' | 'writtenBytes'): number[] {
  return t.samples.map((s) => (s[key] * 1000) / t.bucketMs);
}

/** A round top for the y axis: 1, 2 or 5 times a power of ten, at least 1 kB/s so an idle cluster is a flat line. */
function niceMax(peak: number): number {
  const floor = Math.max(peak, 1000);
  const power = 10 ** Math.floor(Math.log10(floor));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= floor)!;
}

function path(values: number[], max: number): string {
  const step = WIDTH / Math.max(1, values.length - 1);
  return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(HEIGHT - (v / max) * HEIGHT).toFixed(1)}`).join('');
}

/**
 * Cluster throughput over the last minutes as two lines, read and written, on one scale. The
 * bucket still filling is left out: it would always dip. Screen readers get the newest rates and
 * the peak in words.
 */
@customElement('shoal-throughput-chart')
export class ShoalThroughputChart extends LitElement {
  static override styles = [
    baseStyles,
    css`
      svg {
        display: block;
        width: 100%;
        height: 9rem;
        overflow: visible;
      }
      .grid {
        stroke: var(--border);
        stroke-width: 1;
      }
      .read {
        stroke: var(--accent);
        fill: none;
        stroke-width: 2;
      }
      .write {
        stroke: var(--disk);
        fill: none;
        stroke-width: 2;
      }
      .axis {
        display: flex;
        justify-content: space-between;
        font-size: 0.8rem;
        color: var(--muted);
        margin-top: 0.3rem;
      }
      .legend {
        display: flex;
        gap: 1rem;
        font-size: 0.85rem;
        flex-wrap: wrap;
      }
      .legend span::before {
        content: '';
        display: inline-block;
        width: 0.8rem;
        height: 3px;
        margin-right: 0.35rem;
        vertical-align: middle;
        background: var(--line);
      }
      .legend .r {
        --line: var(--accent);
      }
      .legend .w {
        --line: var(--disk);
      }
    `,
  ];

  @property({ attribute: false }) throughput: ClusterThroughput | null = null;
  /** When the figures are not live, the time they are from: the rates are then not called current. */
  @property({ attribute: false }) staleSince: number | null = null;

  override render() {
    const t = this.throughput;
    if (!t || t.samples.length < 3) return html`<p class="muted">No figures yet.</p>`;
    const done = { ...t, samples: t.samples.slice(0, -1) };
    const read = rates(done, 'readBytes');
    const write = rates(done, 'writtenBytes');
    const max = niceMax(Math.max(...read, ...write));
    const minutes = Math.round((done.samples.length * t.bucketMs) / 60_000);
    const when = this.staleSince !== null ? `at ${clock(this.staleSince)}` : 'now';
    const span = this.staleSince !== null ? `the ${minutes} minutes before ${clock(this.staleSince)}` : `the last ${minutes} minutes`;
    const summary = `Throughput over ${span}: ${when} reading ${formatRate(read.at(-1)!)} and writing ${formatRate(write.at(-1)!)}; peak ${formatRate(Math.max(...read, ...write))}.`;
    return html`<div class="legend">
        <span class="r">Read ${formatRate(read.at(-1)!)}${this.staleSince !== null ? ` ${when}` : ''}</span>
        <span class="w">Written ${formatRate(write.at(-1)!)}${this.staleSince !== null ? ` ${when}` : ''}</span>
        <span class="muted">scale up to ${formatRate(max)}</span>
      </div>
      <svg id="throughput-svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label=${summary}>
        ${[0, 0.5, 1].map((f) => svg`<line class="grid" x1="0" x2=${WIDTH} y1=${HEIGHT * f} y2=${HEIGHT * f} vector-effect="non-scaling-stroke"></line>`)}
        <path class="read" d=${path(read, max)} vector-effect="non-scaling-stroke"></path>
        <path class="write" d=${path(write, max)} vector-effect="non-scaling-stroke"></path>
      </svg>
      <div class="axis" aria-hidden="true"><span>${minutes} min ${this.staleSince !== null ? 'before' : 'ago'}</span><span>${this.staleSince !== null ? clock(this.staleSince) : 'now'}</span></div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-throughput-chart': ShoalThroughputChart;
  }
}
