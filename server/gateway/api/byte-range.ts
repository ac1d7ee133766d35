import { ShoalError } from '../../../shared/errors.ts';
import type { ByteRange } from '../files/file-reader.ts';

/**
 * Parses a single-range `Range` header; null means serve the whole file, as RFC 9110 (14.2) asks
 * for a header that is invalid (`bytes=5-3`, syntax it does not know) and allows for multiple
 * ranges. A valid range that starts past the file, or an empty suffix, cannot be satisfied: 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const [, from, to] = match;
  if (from !== '' && to !== '' && Number(to) < Number(from)) return null;
  let start: number;
  let end: number;
  if (from === '') {
    start = Math.max(0, size - Number(to));
    end = Number(to) === 0 ? -1 : size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || end < start) {
    throw new ShoalError('BAD_RANGE', `range ${header} is outside the file's ${size} bytes`, { headers: { 'Content-Range': `bytes */${size}` } });
  }
  return { start, end };
}
