import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { ShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import type { FileChunk } from '../metadata/metadata-store.ts';
import { SEGMENT_BYTES, segmentCount, sealedSize, storedSize, TAG_BYTES } from '../metadata/sealed-size.ts';

/** `DATA/data-key`: the secret every chunk's key derives from. Losing it loses every file. */
export const DATA_KEY_FILE = 'data-key';
export const DATA_KEY_PREFIX = 'data_';

const STORED_SEGMENT_BYTES = SEGMENT_BYTES + TAG_BYTES;

/** What a node stores for a chunk: its bytes or the covering segments of a range, and where they start. */
export interface StoredSpan {
  offset: number;
  length: number;
}

/**
 * Encrypts chunks for the nodes and decrypts what they return, so no node ever holds plaintext.
 *
 * Identical plaintext gives identical ciphertext, so the cluster still deduplicates: a chunk's
 * `key` is HMAC-SHA256 of its plaintext under a key derived from the cluster's data key, and its
 * AES key and nonce prefix are derived from that id and the data key with HKDF. Only the keyed id
 * is kept in the metadata: without the data key it reveals nothing and opens nothing.
 *
 * A sealed chunk is its segments one after another, each ciphertext then its 16-byte tag. Segment
 * i's nonce is the chunk's 7-byte prefix, i (u32 big-endian) and a byte saying whether it is the
 * last, so reordering, dropping or truncating segments fails a tag (the STREAM construction).
 * Nodes still verify copies by the SHA-256 of the sealed bytes, the chunk's id.
 */
export class ChunkCipher {
  readonly #idKey: Buffer;
  readonly #keyMaterial: Buffer;

  constructor(dataKey: string) {
    const secret = Buffer.from(dataKey, 'utf8');
    this.#idKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'shoal chunk id v1', 32));
    this.#keyMaterial = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'shoal chunk key v1', 32));
  }

  /**
   * Seals one chunk: what the nodes store, and the FileChunk that finds and opens it. The sealed
   * bytes are written into `into` (at least sealedSize(plain.length) long) when given, which the
   * answer's `sealed` is then a view of. `plain` may lie inside `into` itself, starting at least a
   * tag per segment after `into` starts: segment i is read before it is written over, and what is
   * written ends below segment i + 1, so a chunk is sealed in place with no second buffer.
   */
  seal(plain: Uint8Array, into?: Uint8Array): { sealed: Uint8Array; chunk: FileChunk } {
    const key = createHmac('sha256', this.#idKey).update(plain).digest('hex');
    const { aesKey, prefix } = this.#derive(key);
    const count = segmentCount(plain.length);
    const size = sealedSize(plain.length);
    if (into && into.length < size) throw new RangeError(`${into.length} bytes cannot hold a sealed chunk of ${size}`);
    if (into && plain.buffer === into.buffer && overlapsBelow(plain, into, TAG_BYTES * (count - 1))) {
      throw new RangeError('a chunk sealed in place must start at least a tag per segment into the buffer');
    }
    const sealed = into ? Buffer.from(into.buffer, into.byteOffset, size) : Buffer.allocUnsafe(size);
    for (let i = 0; i < count; i++) {
      const cipher = createCipheriv('aes-256-gcm', aesKey, nonce(prefix, i, i === count - 1));
      const at = i * STORED_SEGMENT_BYTES;
      const written = cipher.update(plain.subarray(i * SEGMENT_BYTES, (i + 1) * SEGMENT_BYTES)).copy(sealed, at);
      cipher.final();
      cipher.getAuthTag().copy(sealed, at + written);
    }
    return { sealed, chunk: { hash: sha256Hex(sealed), size: plain.length, key } };
  }

  /** The stored bytes that cover plaintext bytes `start`..`end` (inclusive) of a sealed chunk. */
  span(chunk: FileChunk, start: number, end: number): StoredSpan {
    const first = Math.floor(start / SEGMENT_BYTES);
    const last = Math.floor(end / SEGMENT_BYTES);
    const offset = first * STORED_SEGMENT_BYTES;
    return { offset, length: Math.min(storedSize(chunk), (last + 1) * STORED_SEGMENT_BYTES) - offset };
  }

  /**
   * Opens the stored bytes of `span` (from span()): the plaintext of the segments they cover,
   * every tag verified. Bytes that a node damaged, forged or cut short are CHUNK_CORRUPT.
   * Decrypts in place: `stored` is used up, and what comes back is a view of its first bytes, each
   * segment's plaintext moved down over the tags before it, so a read allocates no second chunk.
   */
  open(chunk: FileChunk, span: StoredSpan, stored: Uint8Array): Uint8Array {
    if (chunk.key === undefined) throw new ShoalError('INTERNAL', `chunk ${chunk.hash.slice(0, 12)} is not sealed`);
    if (stored.length !== span.length) throw corrupt(chunk, `${stored.length} bytes where ${span.length} were asked for`);
    const { aesKey, prefix } = this.#derive(chunk.key);
    const count = segmentCount(chunk.size);
    const first = span.offset / STORED_SEGMENT_BYTES;
    // Segment i's plaintext lands below where its own bytes start, and only once they are read
    // (its tag is copied by setAuthTag), so no segment is overwritten before it is opened.
    const plain = Buffer.from(stored.buffer, stored.byteOffset, stored.length - TAG_BYTES * Math.ceil(stored.length / STORED_SEGMENT_BYTES));
    for (let at = 0, i = first, out = 0; at < stored.length; at += STORED_SEGMENT_BYTES, i++) {
      const segment = stored.subarray(at, Math.min(stored.length, at + STORED_SEGMENT_BYTES));
      // Only an empty chunk has a segment of its tag alone; a short one fails its tag.
      if (segment.length < TAG_BYTES) throw corrupt(chunk, `segment ${i} is cut short`);
      const decipher = createDecipheriv('aes-256-gcm', aesKey, nonce(prefix, i, i === count - 1));
      decipher.setAuthTag(segment.subarray(segment.length - TAG_BYTES));
      try {
        out += decipher.update(segment.subarray(0, segment.length - TAG_BYTES)).copy(plain, out);
        decipher.final();
      } catch (err) {
        throw corrupt(chunk, `segment ${i} fails its tag`, err);
      }
    }
    return plain;
  }

  #derive(key: string): { aesKey: Buffer; prefix: Buffer } {
    const okm = Buffer.from(hkdfSync('sha256', this.#keyMaterial, Buffer.from(key, 'hex'), 'shoal segment key v1', 39));
    return { aesKey: okm.subarray(0, 32), prefix: okm.subarray(32) };
  }
}

/** Whether `plain` starts fewer than `gap` bytes after `into` does, while overlapping it. */
function overlapsBelow(plain: Uint8Array, into: Uint8Array, gap: number): boolean {
  const intoEnd = into.byteOffset + into.length;
  const overlaps = plain.byteOffset < intoEnd && into.byteOffset < plain.byteOffset + plain.length;
  return overlaps && plain.byteOffset - into.byteOffset < gap;
}

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const iv = Buffer.alloc(12);
  prefix.copy(iv, 0);
  iv.writeUInt32BE(index, 7);
  iv[11] = last ? 1 : 0;
  return iv;
}

function corrupt(chunk: FileChunk, why: string, cause?: unknown): ShoalError {
  return new ShoalError('CHUNK_CORRUPT', `sealed chunk ${chunk.hash.slice(0, 12)} does not open: ${why}`, { cause });
}
