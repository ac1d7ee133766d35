import type { FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** Streams stored files back, verified chunk by chunk. */
export class FileReader {
  readonly #replicas: ReplicaStore;
  readonly #metadata: MetadataStore;
  /** Chunks fetched ahead of the one being sent. */
  readonly #readAhead: number;

  constructor(replicas: ReplicaStore, metadata: MetadataStore, readAhead: number) {
    this.#replicas = replicas;
    this.#metadata = metadata;
    this.#readAhead = readAhead;
  }

  /**
   * Streams a file's bytes in order, fetching a few chunks ahead. The first chunk is fetched
   * before this resolves, so a file that cannot be read at all fails with a clean 503 rather than
   * a broken 200.
   */
  async open(file: FileRecord, range: ByteRange): Promise<ReadableStream<Uint8Array>> {
    if (file.size === 0) return new ReadableStream({ start: (c) => c.close() });
    const first = Math.floor(range.start / file.chunkSize);
    const last = Math.floor(range.end / file.chunkSize);
    const chunks = await this.#metadata.getChunks([...new Set(file.chunks.slice(first, last + 1))]);
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
}
