import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The additional checksums S3 clients send with a body (`x-amz-checksum-<algorithm>`, as a header
 * or a trailer), each the base64 of the big-endian digest of the whole body.
 */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface RunningChecksum {
  update(data: Uint8Array): void;
  base64(): string;
}

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

export function runningChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  if (algorithm === 'sha1' || algorithm === 'sha256') {
    const hash = createHash(algorithm);
    return { update: (data) => void hash.update(data), base64: () => hash.digest('base64') };
  }
  let crc = 0;
  const step = algorithm === 'crc32' ? (data: Uint8Array) => crc32(data, crc) : (data: Uint8Array) => crc32c(data, crc);
  return {
    update: (data) => void (crc = step(data)),
    base64: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out.toString('base64');
    },
  };
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from `previous`. */
export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
