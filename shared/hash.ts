/** SHA-256 through WebCrypto, available both in browsers and in Node 20+, so shared code needs no node:crypto. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const HASH_RE = /^[0-9a-f]{64}$/;

export function isChunkHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_RE.test(value);
}
