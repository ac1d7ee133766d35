import { createHash } from 'node:crypto';
import { ShoalError, toShoalError } from '../../shared/errors.ts';
import type { GatewayContext } from './context.ts';
import type { FileRecord } from './metadata-store.ts';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Reads one chunk from whichever replica can produce it intact. Replicas are tried in random order
 * to spread load; one that fails, lacks the chunk or returns bytes that do not hash right is
 * reported lost and the next is tried.
 */
export async function fetchChunk(ctx: GatewayContext, hash: string, nodeIds: string[]): Promise<Uint8Array> {
  const online = shuffle(nodeIds.filter((id) => ctx.registry.isOnline(id)));
  const reasons: string[] = [];
  for (const nodeId of online) {
    const link = ctx.registry.get(nodeId);
    if (!link) continue;
    try {
      const data = await link.get(hash);
      if (createHash('sha256').update(data).digest('hex') !== hash) {
        throw new ShoalError('CHUNK_CORRUPT', `node ${nodeId} returned bytes that do not match ${hash.slice(0, 12)}`);
      }
      return data;
    } catch (err) {
      const e = toShoalError(err);
      reasons.push(`${nodeId}: ${e.code}`);
      if (e.code === 'CHUNK_CORRUPT' || e.code === 'CHUNK_NOT_FOUND') await ctx.replicaLost(hash, nodeId, e.code);
    }
  }
  const offline = nodeIds.length - online.length;
  throw new ShoalError(
    'CHUNK_UNAVAILABLE',
    `no replica of chunk ${hash.slice(0, 12)} could be read (${[...reasons, offline ? `${offline} replica(s) offline` : ''].filter(Boolean).join(', ') || 'no replicas recorded'})`,
  );
}

/**
 * Streams a file's bytes in order, fetching a few chunks ahead and verifying each. The first chunk
 * is fetched before this resolves, so a file that cannot be read at all fails with a clean 503
 * rather than a broken 200.
 */
export async function openFileStream(ctx: GatewayContext, file: FileRecord, range: ByteRange): Promise<ReadableStream<Uint8Array>> {
  if (file.size === 0) return new ReadableStream({ start: (c) => c.close() });
  const first = Math.floor(range.start / file.chunkSize);
  const last = Math.floor(range.end / file.chunkSize);
  const wanted = file.chunks.slice(first, last + 1);
  const chunks = await ctx.metadata.getChunks([...new Set(wanted)]);
  const queue: Array<Promise<Uint8Array>> = [];
  let next = first;

  const fill = (): void => {
    while (next <= last && queue.length <= ctx.config.readAhead) {
      const hash = file.chunks[next]!;
      const fetching = fetchChunk(ctx, hash, chunks.get(hash)?.nodeIds ?? []);
      fetching.catch(() => {});
      queue.push(fetching);
      next++;
    }
  };
  let index = first;
  const take = async (): Promise<Uint8Array> => {
    fill();
    const data = await queue.shift()!;
    const offset = index * file.chunkSize;
    index++;
    return data.subarray(Math.max(0, range.start - offset), Math.min(data.length, range.end + 1 - offset));
  };

  const head = await take();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(head);
        if (index > last) controller.close();
      },
      async pull(controller) {
        controller.enqueue(await take());
        if (index > last) controller.close();
      },
      cancel() {
        queue.length = 0;
      },
    },
    { highWaterMark: 0 },
  );
}

/** Parses a single-range `Range` header; null means serve the whole file. Multiple ranges are served whole too. */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) {
    if (/^bytes=.*,/.test(header)) return null;
    throw new ShoalError('BAD_RANGE', `unsupported Range header ${header}`);
  }
  const [, from, to] = match;
  let start: number;
  let end: number;
  if (from === '') {
    if (to === '') throw new ShoalError('BAD_RANGE', 'empty Range');
    start = Math.max(0, size - Number(to));
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || end < start || size === 0) {
    throw new ShoalError('BAD_RANGE', `range ${header} is outside the file's ${size} bytes`);
  }
  return { start, end };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
