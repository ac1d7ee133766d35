import { sha256Hex } from '../../sha256.ts';
import type { FileRecord } from '../metadata/metadata-store.ts';

/**
 * A file version's strong ETag: its SHA-256, quoted, which clients may check the bytes against.
 * A file composed of parts whose whole digest nobody computed gets the SHA-256 of its chunks'
 * hashes instead, marked so no client takes it for the content's: the chunk ids follow from the
 * content (sealed chunks are deterministic), so the tag still changes exactly when the bytes do.
 */
export function fileEtag(file: FileRecord): string {
  return file.sha256 === null ? `"chunks-${sha256Hex(file.chunks.map((c) => c.hash).join(''))}"` : `"${file.sha256}"`;
}
