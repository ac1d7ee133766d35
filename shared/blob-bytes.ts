/**
 * Bytes read out of a Blob, remembered with it, so the Blob can stand in for them where bytes would
 * be handed back to the browser (stored in IndexedDB, sent as a request body): the browser then
 * reuses the data it holds rather than taking a copy of the tab's. In Chromium a tab pays for
 * every byte it gives the browser; a Blob it already holds costs it nothing to pass on.
 *
 * The bytes must not be written to: the Blob they stand for cannot change with them.
 */
const sources = new WeakMap<ArrayBufferLike, Blob>();

/** The whole of `blob` as bytes that own their buffer, remembered as that blob's. */
export async function blobBytes(blob: Blob): Promise<Uint8Array> {
  const buffer = await blob.arrayBuffer();
  sources.set(buffer, blob);
  return new Uint8Array(buffer);
}

/**
 * The part of the Blob `bytes` were read from by blobBytes that they view, or else a new Blob
 * holding a copy of them; of no type either way, so as a request body it sends no Content-Type
 * (which a cross-origin request would have to ask leave for first).
 */
export function asBlob(bytes: Uint8Array): Blob {
  const source = sources.get(bytes.buffer);
  // A buffer since detached (transferred) no longer holds what the Blob does.
  if (source === undefined || bytes.buffer.byteLength !== source.size) return new Blob([bytes as Uint8Array<ArrayBuffer>]);
  const end = bytes.byteOffset + bytes.byteLength;
  return bytes.byteOffset === 0 && end === source.size && source.type === '' ? source : source.slice(bytes.byteOffset, end);
}
