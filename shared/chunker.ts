/**
 * Splits a byte stream into fixed-size chunks. Only one chunk-sized buffer is filled at a time, so
 * memory stays at one chunk however large the stream; the last chunk may be shorter, and an empty
 * stream yields no chunks at all.
 */
export async function* chunkStream(
  source: ByteSource,
  chunkSize: number,
): AsyncGenerator<Uint8Array> {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`bad chunk size ${chunkSize}`);
  let buf = new Uint8Array(chunkSize);
  let filled = 0;
  for await (const piece of iterate(source)) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(chunkSize - filled, piece.length - offset);
      buf.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === chunkSize) {
        yield buf;
        buf = new Uint8Array(chunkSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buf.subarray(0, filled);
}

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>;

function iterate(source: ByteSource): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (Symbol.asyncIterator in source || Symbol.iterator in source) return source as AsyncIterable<Uint8Array>;
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}
