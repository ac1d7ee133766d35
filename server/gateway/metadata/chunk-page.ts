import type { ChunkPage, ChunkPageQuery, RecordedChunk } from './metadata-store.ts';

/** Copy counts beyond any cluster's: the open end of a range of copies. */
const MANY_COPIES = 2 ** 31 - 1;

/** A live chunk as a store reads it for a page, with its copy count as the store keeps it (the index's order). */
export interface PagedChunk {
  chunk: RecordedChunk;
  copies: number;
}

/** The reads a store pages live chunks with, each a range of an index, in its order, at most `limit`. */
export interface ChunkReads {
  /** Chunks with exactly `copies` copies, hash after `hash`. */
  sameCopies(copies: number, hash: string, limit: number): Promise<PagedChunk[]>;
  /** Chunks with more than `copies` copies, within lo..hi, by copies then hash. */
  moreCopies(copies: number, lo: number, hi: number, limit: number): Promise<PagedChunk[]>;
  /** Chunks with a copy on `node`, hash after `hash`. */
  onNode(node: string, hash: string, limit: number): Promise<PagedChunk[]>;
  /** Every live chunk, hash after `hash`. */
  all(hash: string, limit: number): Promise<PagedChunk[]>;
}

/**
 * A page of listChunkPage. Pages by copies go on from the cursor in two reads, the rest of its copy
 * count and then the counts above it, because a row-value comparison, (copies, hash) > (c, h),
 * is not a seek in SQLite's index: each page would read again from the start of the range.
 */
export async function readChunkPage(reads: ChunkReads, query: ChunkPageQuery): Promise<ChunkPage> {
  const { select, limit } = query;
  const after = query.after ?? { copies: -1, hash: '' };
  let rows: PagedChunk[];
  if ('node' in select) rows = await reads.onNode(select.node, after.hash, limit);
  else if ('all' in select) rows = await reads.all(after.hash, limit);
  else {
    const [lo, hi] = 'copiesBelow' in select ? [0, select.copiesBelow - 1] : [select.copiesAbove + 1, MANY_COPIES];
    rows = after.copies >= lo ? await reads.sameCopies(after.copies, after.hash, limit) : [];
    if (rows.length < limit) rows = [...rows, ...(await reads.moreCopies(after.copies, lo, hi, limit - rows.length))];
  }
  const last = rows.at(-1);
  const chunks = rows.map((row) => row.chunk);
  if (!last || rows.length < limit) return { chunks };
  return { chunks, next: { copies: 'node' in select || 'all' in select ? 0 : last.copies, hash: last.chunk.hash } };
}
