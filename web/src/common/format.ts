export { formatBytes, formatRate } from '../../../shared/units.ts';
export { plural } from '../../../shared/plural.ts';

/** "just now", "12 s ago", "5 min ago", "3 h ago", or the date. */
export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return 'never';
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** A fraction in 0..1, 0 when there is no whole to be part of. */
export function fraction(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, Math.max(0, part / whole)) : 0;
}

/** A time of day as "09:21", for "as of" notes on figures that are no longer live. */
export function clock(at: number | Date): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}
