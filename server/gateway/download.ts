import { createHash } from 'node:crypto';
import { ShoalError, toShoalError } from '../../shared/errors.ts';
import type { GatewayContext } from './context.ts';
import type { FileRecord } from './metadata-store.ts';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** How long a read may go unanswered before the next replica is asked too. */
const HEDGE_AFTER_MS = 1500;

/**
 * Reads one chunk from whichever replica can produce it intact. Replicas are tried in random order
 * to spread load; one that fails, lacks the chunk or returns bytes that do not hash right is
 * reported lost and the next is tried at once. A replica that is merely slow (a tab whose page is
 * busy still answers pings) gets a head start, then the next one is asked as well and the first
 * good answer wins.
 */
export async function fetchChunk(ctx: GatewayContext, hash: string, nodeIds: string[]): Promise<Uint8Array> {
  const online = shuffle(nodeIds.filter((id) => ctx.registry.isOnline(id)));
  const reasons: string[] = [];
  const attempt = async (nodeId: string): Promise<Uint8Array | null> => {
    try {
      const link = ctx.registry.get(nodeId);
      if (!link) throw new ShoalError('NODE_OFFLINE', `node ${nodeId} went offline`);
      const data = await link.get(hash);
      if (createHash('sha256').update(data).digest('hex') !== hash) {
        throw new ShoalError('CHUNK_CORRUPT', `node ${nodeId} returned bytes that do not match ${hash.slice(0, 12)}`);
      }
      return data;
    } catch (err) {
      const e = toShoalError(err);
      reasons.push(`${nodeId}: ${e.code}`);
      if (e.code === 'CHUNK_CORRUPT' || e.code === 'CHUNK_NOT_FOUND') await ctx.replicaLost(hash, nodeId, e.code).catch(() => {});
      return null;
    }
  };
  const running = new Set<Promise<Uint8Array | null>>();
  let next = 0;
  while (next < online.length || running.size > 0) {
    if (next < online.length) {
      const tried = attempt(online[next++]!);
      running.add(tried);
      void tried.then(() => running.delete(tried));
    }
    let hedge: ReturnType<typeof setTimeout> | undefined;
    const waits: Array<Promise<Uint8Array | null | 'hedge'>> = [...running];
    if (next < online.length) waits.push(new Promise((resolve) => (hedge = setTimeout(() => resolve('hedge'), HEDGE_AFTER_MS))));
    const first = await Promise.race(waits);
    clearTimeout(hedge);
    if (first instanceof Uint8Array) return first;
    // A failed attempt or a slow one: loop round to ask the next replica, or wait for the rest.
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
