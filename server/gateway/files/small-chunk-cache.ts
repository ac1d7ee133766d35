/** The largest chunk kept: small objects', the size nodes pack (--pack-below's default). */
export const SMALL_CHUNK_BYTES = 64 * 1024;

/**
 * What an entry costs besides its bytes (its hex key, the Map entry, the Uint8Array and its
 * ArrayBuffer), counted against the size: else a cache of tiny chunks would hold millions of
 * entries and use many times its size.
 */
export const ENTRY_OVERHEAD_BYTES = 256;

/**
 * The plaintext of small chunks the gateway sealed or verified lately, by chunk hash, at most
 * `maxBytes` of them, the least recently used going first. A chunk's hash names its content for
 * good, so an entry never goes stale: which chunk a name points to is still read from the
 * metadata on every request, so a file overwritten or deleted through any gateway is seen at
 * once, and only bytes that were verified (or that this gateway sealed itself) get in. A small
 * download then needs no node, no key derivation and no decryption.
 */
export class SmallChunkCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(hash: string): Uint8Array | undefined {
    const plain = this.#entries.get(hash);
    if (plain) {
      // Map keeps insertion order: moving the entry to the end keeps the least recent first.
      this.#entries.delete(hash);
      this.#entries.set(hash, plain);
    }
    return plain;
  }

  /** Keeps a copy of `plain` (the caller's buffer may be reused), if small enough. */
  put(hash: string, plain: Uint8Array): void {
    if (plain.length > SMALL_CHUNK_BYTES || cost(plain) > this.#maxBytes || this.#entries.has(hash)) return;
    this.#entries.set(hash, new Uint8Array(plain));
    this.#bytes += cost(plain);
    for (const [oldest, bytes] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= cost(bytes);
    }
  }
}

function cost(plain: Uint8Array): number {
  return plain.length + ENTRY_OVERHEAD_BYTES;
}
