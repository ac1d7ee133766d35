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

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
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
