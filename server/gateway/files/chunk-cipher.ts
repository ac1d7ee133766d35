import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { ShoalError } from '../../../shared/errors.ts';
import type { FileChunk } from '../metadata/metadata-store.ts';
import { SEGMENT_BYTES, storedSize, TAG_BYTES } from '../metadata/sealed-size.ts';

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
  readonly #crypto: ChunkCrypto;

  constructor(dataKey: string) {
    this.#crypto = chunkCrypto(NODE_TOOLS, dataKey);
  }

  /**
   * Seals one chunk: what the nodes store, and the FileChunk that finds and opens it. The sealed
   * bytes are written into `into` (at least sealedSize(plain.length) long) when given, which the
   * answer's `sealed` is then a view of. `plain` may lie inside `into` itself, starting at least a
   * tag per segment after `into` starts: segment i is read before it is written over, and what is
   * written ends below segment i + 1, so a chunk is sealed in place with no second buffer.
   */
  seal(plain: Uint8Array, into?: Uint8Array): { sealed: Uint8Array; chunk: FileChunk } {
    return this.#crypto.seal(plain, into);
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
    return this.#crypto.open(chunk, span, stored);
  }
}

/** What chunkCrypto uses from outside itself: node:crypto, the segment layout, and how to say a chunk is corrupt. */
export interface CipherTools {
  createHmac: typeof createHmac;
  createHash: typeof createHash;
  createCipheriv: typeof createCipheriv;
  createDecipheriv: typeof createDecipheriv;
  hkdfSync: typeof hkdfSync;
  segmentBytes: number;
  tagBytes: number;
  /** The CHUNK_CORRUPT error for bytes that do not open. */
  corrupt(message: string, cause?: unknown): Error;
}

export interface ChunkCrypto {
  seal(plain: Uint8Array, into?: Uint8Array): { sealed: Uint8Array; chunk: FileChunk };
  open(chunk: FileChunk, span: StoredSpan, stored: Uint8Array): Uint8Array;
}

export const NODE_TOOLS: CipherTools = {
  createHmac,
  createHash,
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  segmentBytes: SEGMENT_BYTES,
  tagBytes: TAG_BYTES,
  corrupt: (message, cause) => new ShoalError('CHUNK_CORRUPT', message, { cause }),
};

/**
 * ChunkCipher's sealing and opening (see there), self-contained: it uses nothing but its
 * arguments and globals, so that crypto-workers.ts can run its source, `chunkCrypto.toString()`,
 * on worker threads, which cannot load the TypeScript sources without a loader of their own.
 */
export function chunkCrypto(tools: CipherTools, dataKey: string): ChunkCrypto {
  const { segmentBytes, tagBytes } = tools;
  const storedSegmentBytes = segmentBytes + tagBytes;
  const secret = Buffer.from(dataKey, 'utf8');
  const idKey = Buffer.from(tools.hkdfSync('sha256', secret, Buffer.alloc(0), 'shoal chunk id v1', 32));
  const keyMaterial = Buffer.from(tools.hkdfSync('sha256', secret, Buffer.alloc(0), 'shoal chunk key v1', 32));
  const segmentCount = (plainSize: number): number => Math.max(1, Math.ceil(plainSize / segmentBytes));
  const derive = (key: string): { aesKey: Buffer; prefix: Buffer } => {
    const okm = Buffer.from(tools.hkdfSync('sha256', keyMaterial, Buffer.from(key, 'hex'), 'shoal segment key v1', 39));
    return { aesKey: okm.subarray(0, 32), prefix: okm.subarray(32) };
  };
  const nonce = (prefix: Buffer, index: number, last: boolean): Buffer => {
    const iv = Buffer.alloc(12);
    prefix.copy(iv, 0);
    iv.writeUInt32BE(index, 7);
    iv[11] = last ? 1 : 0;
    return iv;
  };
  const corrupt = (chunk: FileChunk, why: string, cause?: unknown): Error => tools.corrupt(`sealed chunk ${chunk.hash.slice(0, 12)} does not open: ${why}`, cause);
  return {
    seal(plain, into) {
      const key = tools.createHmac('sha256', idKey).update(plain).digest('hex');
      const { aesKey, prefix } = derive(key);
      const count = segmentCount(plain.length);
      const size = plain.length + tagBytes * count;
      if (into && into.length < size) throw new RangeError(`${into.length} bytes cannot hold a sealed chunk of ${size}`);
      // Whether `plain` starts fewer than a tag per segment after `into` does, while overlapping it.
      if (into && plain.buffer === into.buffer) {
        const overlaps = plain.byteOffset < into.byteOffset + into.length && into.byteOffset < plain.byteOffset + plain.length;
        if (overlaps && plain.byteOffset - into.byteOffset < tagBytes * (count - 1)) {
          throw new RangeError('a chunk sealed in place must start at least a tag per segment into the buffer');
        }
      }
      const sealed = into ? Buffer.from(into.buffer, into.byteOffset, size) : Buffer.allocUnsafe(size);
      for (let i = 0; i < count; i++) {
        const cipher = tools.createCipheriv('aes-256-gcm', aesKey, nonce(prefix, i, i === count - 1));
        const at = i * storedSegmentBytes;
        const written = cipher.update(plain.subarray(i * segmentBytes, (i + 1) * segmentBytes)).copy(sealed, at);
        cipher.final();
        cipher.getAuthTag().copy(sealed, at + written);
      }
      return { sealed, chunk: { hash: tools.createHash('sha256').update(sealed).digest('hex'), size: plain.length, key } };
    },
    open(chunk, span, stored) {
      if (stored.length !== span.length) throw corrupt(chunk, `${stored.length} bytes where ${span.length} were asked for`);
      const { aesKey, prefix } = derive(chunk.key!);
      const count = segmentCount(chunk.size);
      const first = span.offset / storedSegmentBytes;
      // Segment i's plaintext lands below where its own bytes start, and only once they are read
      // (its tag is copied by setAuthTag), so no segment is overwritten before it is opened.
      const plain = Buffer.from(stored.buffer, stored.byteOffset, stored.length - tagBytes * Math.ceil(stored.length / storedSegmentBytes));
      for (let at = 0, i = first, out = 0; at < stored.length; at += storedSegmentBytes, i++) {
        const segment = stored.subarray(at, Math.min(stored.length, at + storedSegmentBytes));
        // Only an empty chunk has a segment of its tag alone; a short one fails its tag.
        if (segment.length < tagBytes) throw corrupt(chunk, `segment ${i} is cut short`);
        const decipher = tools.createDecipheriv('aes-256-gcm', aesKey, nonce(prefix, i, i === count - 1));
        decipher.setAuthTag(segment.subarray(segment.length - tagBytes));
        try {
          out += decipher.update(segment.subarray(0, segment.length - tagBytes)).copy(plain, out);
          decipher.final();
        } catch (err) {
          throw corrupt(chunk, `segment ${i} fails its tag`, err);
        }
      }
      return plain;
    },
  };
}
