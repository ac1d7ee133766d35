import { ShoalError } from '../../../shared/errors.ts';
import type { ByteRange } from '../files/file-reader.ts';

/**
 * Parses a single-range `Range` header; null means serve the whole file, as RFC 9110 asks for
 * headers it does not understand and for multiple ranges. A range wholly outside the file is 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const [, from, to] = match;
  let start: number;
  let end: number;
  if (from === '') {
    start = Math.max(0, size - Number(to));
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || end < start) {
    throw new ShoalError('BAD_RANGE', `range ${header} is outside the file's ${size} bytes`, { headers: { 'Content-Range': `bytes */${size}` } });
  }
  return { start, end };
}
