import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatBytes } from './format.ts';

const SPOKEN_UNITS: Record<string, string> = {
  B: 'bytes',
  kB: 'kilobytes',
  KB: 'kilobytes',
  MB: 'megabytes',
  GB: 'gigabytes',
  TB: 'terabytes',
  KiB: 'kibibytes',
  MiB: 'mebibytes',
  GiB: 'gibibytes',
  TiB: 'tebibytes',
};

/** "1.0 GiB" on screen, "1.0 gibibytes" to a screen reader, which would otherwise spell the unit out or hear raw bytes. */
export function spokenSize(shown: string): string {
  return shown.replace(/\b([kKMGT]i?B|B)\b/, (unit) => SPOKEN_UNITS[unit] ?? unit);
}

/** A size in bytes, shown in the app's units and read out in words. */
@customElement('shoal-size')
export class ShoalSize extends LitElement {
  static override styles = css`
    :host {
      display: inline;
      font-variant-numeric: tabular-nums;
    }
    .spoken {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }
  `;

  @property({ type: Number }) bytes = 0;

  override render() {
    const shown = formatBytes(this.bytes);
    return html`<span aria-hidden="true">${shown}</span><span class="spoken">${spokenSize(shown)}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'shoal-size': ShoalSize;
  }
}
