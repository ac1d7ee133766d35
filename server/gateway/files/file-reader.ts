import { ShoalError } from '../../../shared/errors.ts';
import type { ChunkRecord, FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import { readableCopies } from '../replicas/replica-counts.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Streams stored files back, verified chunk by chunk. A download reads the version it started on:
 * it pins that version's chunks, so replacing or deleting the file meanwhile releases them only
 * once the download has read them, or after `holdMs` at the most.
 */
export class FileReader {
  readonly #replicas: ReplicaStore;
  readonly #registry: NodeRegistry;
  readonly #metadata: MetadataStore;
  /** Chunks fetched ahead of the one being sent. */
  readonly #readAhead: number;
  readonly #holdMs: number;

  constructor(replicas: ReplicaStore, registry: NodeRegistry, metadata: MetadataStore, options: { readAhead: number; holdMs: number }) {
    this.#replicas = replicas;
    this.#registry = registry;
    this.#metadata = metadata;
    this.#readAhead = options.readAhead;
    this.#holdMs = options.holdMs;
  }

  /**
   * Streams a file's bytes in order, fetching a few chunks ahead. Before this resolves, every chunk
   * of the range is checked to have a recorded copy on a node that can be read, and the first one
   * is fetched, so a file that cannot be read whole fails with a clean 503 rather than a 200 that
   * breaks off.
   */
  async open(file: FileRecord, range: ByteRange): Promise<ReadableStream<Uint8Array>> {
    if (file.size === 0) return new ReadableStream({ start: (c) => c.close() });
    const first = Math.floor(range.start / file.chunkSize);
    const last = Math.floor(range.end / file.chunkSize);
    const hold = this.#hold(file.chunks.slice(first, last + 1));
    try {
      const chunks = await this.#metadata.getChunks([...new Set(file.chunks.slice(first, last + 1))]);
      if (file.chunks.slice(first, last + 1).some((hash) => !chunks.has(hash))) {
        throw new ShoalError('CONFLICT', `${file.name} was replaced or deleted just as this download started: ask again`);
      }
      const unreadable = file.chunks.findIndex((hash, i) => i >= first && i <= last && readableCopies(this.#registry, chunks.get(hash)) === 0);
      if (unreadable >= 0) {
        throw new ShoalError('CHUNK_UNAVAILABLE', `no copy of chunk ${unreadable} of ${file.name} is on a node online now: try again once its nodes are back`);
      }
      return await this.#stream(file, range, first, last, chunks, hold);
    } catch (err) {
      hold.releaseAll();
      throw err;
    }
  }

  async #stream(file: FileRecord, range: ByteRange, first: number, last: number, chunks: Map<string, ChunkRecord>, hold: Hold): Promise<ReadableStream<Uint8Array>> {
    const queue: Array<Promise<Uint8Array>> = [];
    let next = first;

    const fill = (): void => {
      while (next <= last && queue.length <= this.#readAhead) {
        const hash = file.chunks[next]!;
        const fetching = this.#replicas.read(hash, chunks.get(hash)?.nodeIds ?? []);
        fetching.catch(() => {});
        queue.push(fetching);
        next++;
      }
    };
    let index = first;
    const take = async (): Promise<Uint8Array> => {
      fill();
      const data = await queue.shift()!;
      hold.release(file.chunks[index]!);
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
          try {
            controller.enqueue(await take());
          } catch (err) {
            hold.releaseAll();
            throw err;
          }
          if (index > last) controller.close();
        },
        cancel() {
          queue.length = 0;
          hold.releaseAll();
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Pins each chunk until the download has read its last use of it, or until `holdMs` has passed. */
  #hold(hashes: string[]): Hold {
    const uses = new Map<string, number>();
    for (const hash of hashes) uses.set(hash, (uses.get(hash) ?? 0) + 1);
    this.#replicas.pinForReading(uses.keys());
    const releaseAll = (): void => {
      clearTimeout(timer);
      for (const hash of uses.keys()) this.#replicas.unpin(hash);
      uses.clear();
    };
    const timer = setTimeout(releaseAll, this.#holdMs);
    timer.unref();
    return {
      release: (hash) => {
        const left = (uses.get(hash) ?? 0) - 1;
        if (left > 0) return void uses.set(hash, left);
        if (uses.delete(hash)) this.#replicas.unpin(hash);
      },
      releaseAll,
    };
  }
}

interface Hold {
  release(hash: string): void;
  releaseAll(): void;
}
