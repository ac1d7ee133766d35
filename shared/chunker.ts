/** The first chunk's buffer starts this small and doubles as the stream proves longer. */
const FIRST_BUFFER_BYTES = 64 * 1024;

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Chunks cut from a stream, one at a time; `return()` ends the source too. */
export interface ChunkIterator extends AsyncIterableIterator<Uint8Array> {
  next(): Promise<IteratorResult<Uint8Array, undefined>>;
  /**
   * The next chunk read into `target` (at least a chunk long) rather than a buffer of its own:
   * the part of `target` it fills, or null past the end.
   */
  nextInto(target: Uint8Array): Promise<Uint8Array | null>;
  return(): Promise<IteratorResult<Uint8Array, undefined>>;
}

/**
 * Splits a byte stream into fixed-size chunks. Only one chunk-sized buffer is filled at a time, so
 * memory stays at one chunk however large the stream; the last chunk may be shorter, and an empty
 * stream yields no chunks at all. A body of 1 KiB never gets a 4 MiB buffer: the first chunk's
 * buffer grows from FIRST_BUFFER_BYTES as bytes come, and later ones, of a stream known to be
 * long, start at full size.
 */
export function chunkStream(source: ByteSource, chunkSize: number): ChunkIterator {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`bad chunk size ${chunkSize}`);
  return new Chunks(pieces(source), chunkSize);
}

/**
 * Not an async generator: a suspended generator keeps every register of its frame, so the chunk
 * it last yielded stays reachable until the consumer asks for the next one. An upload waiting for
 * the shared chunk-buffer budget (files/file-writer.ts) then held a 4 MiB chunk outside it: 32
 * waiting uploads kept 130 MB alive. Here a chunk lives only in the call that fills it.
 */
class Chunks implements ChunkIterator {
  readonly #source: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  readonly #chunkSize: number;
  /** What is left of the last piece read, past `#offset`. */
  #piece: Uint8Array | null = null;
  #offset = 0;
  /** A chunk was full: the stream is long, so later chunks start at full size. */
  #long = false;
  #done = false;

  constructor(source: AsyncIterator<Uint8Array> | Iterator<Uint8Array>, chunkSize: number) {
    this.#source = source;
    this.#chunkSize = chunkSize;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    const chunk = await this.#read(new Uint8Array(0));
    return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
  }

  async nextInto(target: Uint8Array): Promise<Uint8Array | null> {
    if (target.length < this.#chunkSize) throw new RangeError(`a buffer of ${target.length} bytes cannot take a chunk of ${this.#chunkSize}`);
    return this.#read(target);
  }

  /** Fills `buf`, or buffers grown from it as bytes come when it is too short, with the next chunk. */
  async #read(buf: Uint8Array): Promise<Uint8Array | null> {
    const chunkSize = this.#chunkSize;
    let filled = 0;
    while (!this.#done) {
      if (this.#piece === null) {
        let read: IteratorResult<Uint8Array>;
        try {
          read = await this.#source.next();
        } catch (err) {
          this.#done = true;
          throw err;
        }
        if (read.done) {
          this.#done = true;
          break;
        }
        this.#piece = read.value;
        this.#offset = 0;
      }
      const piece = this.#piece;
      const take = Math.min(chunkSize - filled, piece.length - this.#offset);
      if (filled + take > buf.length) {
        const grown = new Uint8Array(this.#long ? chunkSize : Math.min(chunkSize, Math.max(filled + take, buf.length * 2, FIRST_BUFFER_BYTES)));
        grown.set(buf.subarray(0, filled));
        buf = grown;
      }
      buf.set(piece.subarray(this.#offset, this.#offset + take), filled);
      filled += take;
      this.#offset += take;
      if (this.#offset === piece.length) this.#piece = null;
      if (filled === chunkSize) {
        this.#long = true;
        return buf.subarray(0, filled);
      }
    }
    return filled > 0 ? buf.subarray(0, filled) : null;
  }

  async return(): Promise<IteratorResult<Uint8Array, undefined>> {
    const ended = this.#done;
    this.#done = true;
    this.#piece = null;
    if (!ended) await this.#source.return?.();
    return { done: true, value: undefined };
  }
}

function pieces(source: ByteSource): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  if (Symbol.iterator in source) return (source as Iterable<Uint8Array>)[Symbol.iterator]();
  return readerPieces((source as ReadableStream<Uint8Array>).getReader());
}

async function* readerPieces(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
