import { createHash, createHmac, type Hash, type KeyObject } from 'node:crypto';

/** node:crypto hashes on the calling thread at ~1.4 GB/s; WebCrypto (shared/hash.ts) would copy the bytes to another thread first. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A SHA-256 fed piece by piece, for a whole file hashed as its chunks stream past. */
export function createSha256(): Hash {
  return createHash('sha256');
}

/** HMAC-SHA256 of `data` under `key`, in hex. A key used often is best a KeyObject: a string is imported again on every call (~5 µs). */
export function hmacSha256Hex(key: string | KeyObject, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}
