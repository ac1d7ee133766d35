import { createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { isChunkHash } from '../../../shared/hash.ts';
import { hmacSha256Hex } from '../../sha256.ts';
import type { FileChunk, FileRecord } from './metadata-store.ts';

/**
 * What the nodes keep of the metadata, so that it can be rebuilt from them: one manifest per
 * version of a file, and one per deletion, each carrying the name's version. A name's newest
 * manifest says what the name is now: a file, or nothing.
 */
export type Manifest = FileManifest | DeletionManifest;

export interface FileManifest {
  type: 'file';
  version: number;
  file: FileRecord;
}

export interface DeletionManifest {
  type: 'deletion';
  version: number;
  name: string;
  deletedAt: string;
}

/** `DATA/manifest-key`: the key manifests are sealed with. It never leaves the gateway's machine. */
export const MANIFEST_KEY_FILE = 'manifest-key';
export const MANIFEST_KEY_PREFIX = 'manifest_';

/**
 * The format's own version, so a later release can tell the manifests it must read differently.
 * 1: chunks are hashes, each `chunkSize` long but the last, all plaintext. 2: chunks are
 * `[hash, size]` or `[hash, size, key]` (FileChunk), and a composed file's sha256 may be null.
 */
const FORMAT = 2;
const FORMAT_FIXED_CHUNKS = 1;

/** Room in a manifest for all but its chunk list: the fields, a name of 1 KiB escaped, the seal. */
const OVERHEAD_BYTES = 4096;

/** A chunk in the JSON list: `["<64 hex>",<up to 8 digits>,"<64 hex>"],`. */
const BYTES_PER_CHUNK = 145;

/**
 * The most chunks a file may have for its manifest to fit in one chunk of `chunkSize`, which is
 * what a node's frame may carry: 28,897 chunks (about 112 GiB) at 4 MiB.
 */
export function maxChunksPerFile(chunkSize: number): number {
  return Math.floor((chunkSize - OVERHEAD_BYTES) / BYTES_PER_CHUNK);
}

export function manifestName(manifest: Manifest): string {
  return manifest.type === 'file' ? manifest.file.name : manifest.name;
}

/**
 * Writes and reads manifests: one small JSON document each, sealed with an HMAC under the
 * cluster's manifest key. A node may list anything as a manifest; the seal is what tells the
 * gateway's own from one a node made up, so no node can add a file or delete one through
 * recovery.
 */
export class ManifestSeal {
  /** Imported once: every upload seals a manifest. */
  readonly #key: KeyObject;

  constructor(key: string) {
    this.#key = createSecretKey(Buffer.from(key, 'utf8'));
  }

  encode(manifest: Manifest): Uint8Array {
    const body =
      manifest.type === 'file'
        ? {
            shoal: FORMAT,
            type: 'file',
            name: manifest.file.name,
            version: manifest.version,
            size: manifest.file.size,
            sha256: manifest.file.sha256,
            chunkSize: manifest.file.chunkSize,
            replicas: manifest.file.replicas,
            createdAt: manifest.file.createdAt,
            chunks: manifest.file.chunks.map((c) => (c.key === undefined ? [c.hash, c.size] : [c.hash, c.size, c.key])),
          }
        : { shoal: FORMAT, type: 'deletion', name: manifest.name, version: manifest.version, deletedAt: manifest.deletedAt };
    return new TextEncoder().encode(JSON.stringify({ ...body, seal: hmacSha256Hex(this.#key, JSON.stringify(body)) }));
  }

  /** The manifest in `bytes`, or null when they are not one sealed with this cluster's key. */
  decode(bytes: Uint8Array): Manifest | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      return null;
    }
    if (typeof parsed !== 'object' || parsed === null) return null;
    // The seal covers the fields as they were written, in their order: JSON.parse keeps it.
    const { seal, ...body } = parsed as Record<string, unknown>;
    if (typeof seal !== 'string' || !sameHex(seal, hmacSha256Hex(this.#key, JSON.stringify(body)))) return null;
    return toManifest(body);
  }
}

/** A sealed body is the gateway's own; its shape is checked all the same, as a release's guard against another's. */
function toManifest(body: Record<string, unknown>): Manifest | null {
  const { shoal, type, name, version } = body;
  if ((shoal !== FORMAT && shoal !== FORMAT_FIXED_CHUNKS) || typeof name !== 'string' || !isPositive(version)) return null;
  if (type === 'deletion') return typeof body.deletedAt === 'string' ? { type, version, name, deletedAt: body.deletedAt } : null;
  const { size, sha256, chunkSize, replicas, createdAt } = body;
  const digestKnown = isChunkHash(sha256) || (shoal === FORMAT && sha256 === null);
  if (type !== 'file' || !isCount(size) || !digestKnown || !isPositive(chunkSize) || !isPositive(replicas) || typeof createdAt !== 'string') return null;
  const chunks = shoal === FORMAT ? toChunks(body.chunks) : fixedChunks(body.chunks, size, chunkSize);
  if (!chunks || chunks.reduce((sum, c) => sum + c.size, 0) !== size) return null;
  return { type, version, file: { name, size, sha256: sha256 as string | null, chunkSize, replicas, createdAt, chunks } };
}

function toChunks(list: unknown): FileChunk[] | null {
  if (!Array.isArray(list)) return null;
  const chunks: FileChunk[] = [];
  for (const entry of list) {
    if (!Array.isArray(entry) || !isChunkHash(entry[0]) || !isPositive(entry[1])) return null;
    if (entry.length === 2) chunks.push({ hash: entry[0], size: entry[1] });
    else if (entry.length === 3 && isChunkHash(entry[2])) chunks.push({ hash: entry[0], size: entry[1], key: entry[2] });
    else return null;
  }
  return chunks;
}

/** A format 1 list: plaintext chunks of `chunkSize` bytes each but the last. */
function fixedChunks(list: unknown, size: number, chunkSize: number): FileChunk[] | null {
  if (!Array.isArray(list) || !list.every(isChunkHash) || list.length !== Math.ceil(size / chunkSize)) return null;
  return list.map((hash, i) => ({ hash, size: Math.min(chunkSize, size - i * chunkSize) }));
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isPositive(value: unknown): value is number {
  return isCount(value) && value > 0;
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
