import { ShoalError } from './errors.ts';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Parses sizes like 512MB, 1.5GB or 4MiB; a bare number means `bareUnit`, GB by default as in the prototype. */
export function parseSize(text: string, bareUnit = 'gb'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = (match?.[2] || bareUnit).toLowerCase();
  const factor = UNITS[unit] ?? UNITS[`${unit}b`];
  if (!match || factor === undefined) throw new ShoalError('BAD_REQUEST', `cannot read ${JSON.stringify(text)} as a size (try 512MB, 1GB or 4MiB)`);
  return Math.round(Number(match[1]) * factor);
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * One convention for every size shown: decimal units (1 GB = 10^9 bytes, as disks are sold and as
 * `--storage 1GB` means), except for a size that is a round binary amount and not a round decimal
 * one, which keeps the binary unit it was surely given in (`--chunk-size 4MiB` shows as "4 MiB").
 * So what a user typed comes back as they typed it.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1000) return `${Math.round(bytes)} B`;
  const decimal = scaled(bytes, 1000, DECIMAL);
  if (decimal.exact) return decimal.text;
  const binary = scaled(bytes, 1024, BINARY);
  return binary.exact ? binary.text : decimal.text;
}

/** `bytes` in the largest unit it reaches, to three significant digits; exact when nothing was rounded away. */
function scaled(bytes: number, base: number, units: string[]): { text: string; exact: boolean } {
  let i = 0;
  let value = bytes;
  while (Math.abs(value) >= base && i < units.length - 1) {
    value /= base;
    i++;
  }
  const digits = Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
  const rounded = Number(value.toFixed(digits));
  return { text: `${rounded} ${units[i]}`, exact: rounded * base ** i === bytes };
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations like 500ms, 30s, 10m, 1h or 7d; a bare number means seconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) throw new ShoalError('BAD_REQUEST', `cannot read ${JSON.stringify(text)} as a duration (try 500ms, 30s, 10m, 1h or 7d)`);
  return Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]!);
}
