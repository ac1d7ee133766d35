import type { FileChunk } from './metadata-store.ts';

/**
 * Plaintext bytes per sealed segment. A chunk is sealed as independent AES-256-GCM segments
 * (files/chunk-cipher.ts) so that a range read fetches and verifies only the segments it covers;
 * 64 KiB keeps the tags' overhead at 0.02 % and AES-GCM runs at full speed from there up.
 */
export const SEGMENT_BYTES = 64 * 1024;
export const TAG_BYTES = 16;

/** Segments of a sealed chunk of `plainSize` bytes: an empty one still has one, to carry a tag. */
export function segmentCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / SEGMENT_BYTES));
}

/** The bytes a chunk of `plainSize` takes on the nodes sealed: each segment gains its tag. */
export function sealedSize(plainSize: number): number {
  return plainSize + TAG_BYTES * segmentCount(plainSize);
}

/** The bytes a chunk takes on the nodes: sealed, or plaintext (stored before encryption) as it is. */
export function storedSize(chunk: FileChunk): number {
  return chunk.key === undefined ? chunk.size : sealedSize(chunk.size);
}
