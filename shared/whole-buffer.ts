/**
 * Whether `bytes` is the whole of an ordinary ArrayBuffer: only then can the buffer be handed on
 * (transferred to a worker, cloned into IndexedDB) without taking or copying bytes that are not
 * these. A page that is not cross-origin isolated has no SharedArrayBuffer at all.
 */
export function ownsWholeBuffer(bytes: Uint8Array): boolean {
  const shared = typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer;
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !shared;
}
