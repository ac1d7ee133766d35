import type { FilePage, FilePageQuery, FileRecord } from './metadata-store.ts';

/** Names a store reads for a page: from `from` on (or after it), below `below`, in byte order, at most `limit`. */
export interface NameRange {
  from: string;
  inclusive: boolean;
  below?: string;
  limit: number;
}

/** Names read at first after a folder, doubling while files follow. */
const FIRST_STEP = 8;

/**
 * Pages the listing over a store's sorted names, keyset style: every read is a range of the
 * index on names, whatever the page's position, and a folder costs one read, its contents skipped.
 * Names compare in byte order (UTF-8), as both stores sort them.
 */
export async function pageFiles(
  query: FilePageQuery,
  readNames: (range: NameRange) => Promise<string[]>,
  readFiles: (names: string[]) => Promise<FileRecord[]>,
): Promise<FilePage> {
  const prefix = query.prefix ?? '';
  const below = prefixEnd(prefix);
  let cursor = startOf(query, prefix);
  const names: string[] = [];
  const prefixes: string[] = [];
  const taken = () => names.length + prefixes.length;
  let last: string | undefined;
  let more = false;
  let step = FIRST_STEP;

  reading: while (true) {
    // One name more than the page holds says whether another page follows. With a delimiter, a
    // read stops short: after a folder's first name the rest of the read would be skipped anyway.
    const want = query.limit - taken() + 1;
    const size = query.delimiter === undefined ? want : Math.min(want, step);
    const batch = await readNames({ ...cursor, below, limit: size });
    for (const name of batch) {
      if (taken() === query.limit) {
        more = true;
        break reading;
      }
      const folderEnd = query.delimiter === undefined ? -1 : name.indexOf(query.delimiter, prefix.length);
      if (folderEnd >= 0) {
        last = name.slice(0, folderEnd + 1);
        prefixes.push(last);
        const past = prefixEnd(last);
        if (past === undefined) break reading;
        cursor = { from: past, inclusive: true };
        step = FIRST_STEP;
        continue reading;
      }
      names.push(name);
      last = name;
      cursor = { from: name, inclusive: false };
    }
    if (batch.length < size) break;
    step *= 2;
  }
  const files = names.length > 0 ? await readFiles(names) : [];
  return { files, prefixes, ...(more && last !== undefined ? { next: last } : {}) };
}

/** Where a page starts: after `after` (past the whole folder, when it is one), and within the prefix. */
function startOf(query: FilePageQuery, prefix: string): { from: string; inclusive: boolean } {
  const after = query.after;
  if (after === undefined || byteOrder(after, prefix) < 0) return { from: prefix, inclusive: true };
  if (query.delimiter !== undefined && after.endsWith(query.delimiter)) {
    const past = prefixEnd(after);
    if (past !== undefined) return { from: past, inclusive: true };
  }
  return { from: after, inclusive: false };
}

/**
 * The least string above every string that starts with `prefix`, in byte order (UTF-8 order is
 * code point order): its last code point plus one. Undefined when there is none (no prefix, or
 * one of U+10FFFF only).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

/** Compares as UTF-8 bytes, the order both stores sort names in (JavaScript's < compares UTF-16 units). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
