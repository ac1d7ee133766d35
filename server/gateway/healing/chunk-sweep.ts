import type { ChunkCursor, ChunkSelection, MetadataStore, RecordedChunk } from '../metadata/metadata-store.ts';

export interface SweepPage {
  select: ChunkSelection;
  chunks: RecordedChunk[];
}

/** Chunks read per page: what a sweep holds at once, whatever the size of the store. */
export const SWEEP_PAGE = 1000;

/**
 * The chunks a repair sweep must look at, a page at a time, each page read after the one before
 * is used: those with fewer or more than R copies, and those with a copy on a node that cannot be
 * written now (offline, draining, quarantined, unknown), whatever their count. Every other chunk
 * has exactly R copies, all good, and needs nothing. Rebalancing looks at every chunk, after
 * those, so that repair does not wait behind it. A chunk may come up twice (short of copies and on
 * an offline node); planning it again is harmless.
 */
export async function* sweepPages(
  metadata: MetadataStore,
  options: { replicas: number; unwritable: string[]; all: boolean; pageSize?: number },
): AsyncGenerator<SweepPage> {
  const selections: ChunkSelection[] = [
    { copiesBelow: options.replicas },
    ...options.unwritable.map((node) => ({ node })),
    // Every chunk includes those with more than R copies.
    options.all ? { all: true } : { copiesAbove: options.replicas },
  ];
  for (const select of selections) {
    let after: ChunkCursor | undefined;
    do {
      const page = await metadata.listChunkPage({ select, after, limit: options.pageSize ?? SWEEP_PAGE });
      if (page.chunks.length > 0) yield { select, chunks: page.chunks };
      after = page.next;
    } while (after);
  }
}
