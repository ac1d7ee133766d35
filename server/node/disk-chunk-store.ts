import { randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChunkKind } from '../../shared/chunk-store.ts';
import { ShoalError } from '../../shared/errors.ts';
import { isChunkHash } from '../../shared/hash.ts';
import { VerifiedChunkStore, type ChunkBackend } from '../../shared/verified-chunk-store.ts';
import { sha256Hex } from '../sha256.ts';
import { ChunkPacks } from './chunk-packs.ts';
import { DirSyncs } from './dir-syncs.ts';
import { DirectWrites } from './direct-writes.ts';
import { readAt, readWhole } from './whole-file.ts';

const PREFIX_RE = /^[0-9a-f]{2}$/;
/** `<hash>.<uuid>.tmp`: strict enough that a scan never mistakes someone else's file for ours. */
const TEMP_RE = /^[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp$/;

/** Where a chunk lives: `dir/ab/cd/abcd…`, so no directory grows past a few hundred entries. */
export function chunkPath(dir: string, hash: string): string {
  return join(dir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

const MANIFESTS_DIR = 'manifests';

/** Manifests live in a tree of their own, `dir/manifests/ab/cd/abcd…`, so listing them walks no chunk. */
export function manifestPath(dir: string, hash: string): string {
  return chunkPath(join(dir, MANIFESTS_DIR), hash);
}

/** Chunks up to this size go to packs by default: a 1 KiB file's chunk and manifest, not a 4 MiB chunk. */
const PACK_BELOW_BYTES = 64 * 1024;

export interface DiskLayoutOptions {
  /** Chunks up to this many bytes are appended to packs (chunk-packs.ts); 0 writes every chunk as a file of its own. */
  packBelow?: number;
  /** A pack is sealed past this size and a new one started: 64 MiB unless given. */
  packBytes?: number;
}

/**
 * Chunks as files. A chunk is written to a temp file beside its final name, fsynced, renamed into
 * place and its directory fsynced, so a crash leaves either the whole chunk or none of it. Small
 * chunks go to packs instead, sharing writes and fsyncs; both are read, whichever holds a chunk.
 */
export class DiskChunkBackend implements ChunkBackend {
  readonly #dir: string;
  readonly #layout: DiskLayoutOptions;
  #packs: Promise<ChunkPacks> | null = null;
  /** Leaf directories known to exist durably, shared by concurrent writes into the same new directory. */
  readonly #readyDirs = new Map<string, LeafDir>();
  readonly #dirSyncs = new DirSyncs();
  readonly #direct = new DirectWrites();
  /** Temp files of writes under way, which a scan must not take for the leftovers of a crashed put. */
  readonly #writing = new Set<string>();

  constructor(dir: string, options: DiskLayoutOptions = {}) {
    this.#dir = dir;
    this.#layout = options;
  }

  /** Opened on first use, from the node's directory: every method is async, the constructor is not. */
  #opened(): Promise<ChunkPacks> {
    this.#packs ??= ChunkPacks.open(this.#dir, this.#layout.packBytes);
    this.#packs.catch(() => (this.#packs = null));
    return this.#packs;
  }

  async read(hash: string): Promise<Uint8Array | undefined> {
    const packs = await this.#opened();
    if (packs.has(hash)) return packs.read(hash);
    return (await unlessMissing(readWhole(chunkPath(this.#dir, hash)))) ?? (await unlessMissing(readWhole(manifestPath(this.#dir, hash))));
  }

  async readRange(hash: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    const packs = await this.#opened();
    if (packs.has(hash)) return packs.readRange(hash, offset, length);
    const file = (await unlessMissing(open(chunkPath(this.#dir, hash), 'r'))) ?? (await unlessMissing(open(manifestPath(this.#dir, hash), 'r')));
    if (!file) return undefined;
    try {
      return await readAt(file, length, offset);
    } finally {
      await file.close();
    }
  }

  /** A manifest put again as a plain chunk keeps its copy among the manifests, so it stays one. */
  async write(hash: string, data: Uint8Array, kind: ChunkKind): Promise<void> {
    const packs = await this.#opened();
    if (data.length <= (this.#layout.packBelow ?? PACK_BELOW_BYTES)) return packs.write(hash, data, kind);
    // A copy in a pack would be read first: the chunk is a file from now on.
    if (packs.has(hash)) await packs.remove([hash]);
    const path = kind === 'manifest' ? manifestPath(this.#dir, hash) : chunkPath(this.#dir, hash);
    const leaf = dirname(path);
    const dir = this.#dirReady(leaf);
    await dir.made;
    const temp = `${path}.${randomUUID()}.tmp`;
    this.#writing.add(temp);
    try {
      // Owner only, like every file and directory of a node's: the chunks are ciphertext, but a
      // node's storage is nobody else's business either.
      if (!(await this.#direct.write(temp, data))) {
        const file = await open(temp, 'wx', 0o600);
        try {
          await file.writeFile(data);
          await file.sync();
        } finally {
          await file.close();
        }
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      if (isCode(err, 'ENOSPC')) throw new ShoalError('NODE_FULL', `disk is full: ${(err as Error).message}`, { cause: err });
      throw err;
    } finally {
      this.#writing.delete(temp);
    }
    // The new leaf's own entry may still be on its way to the disk: the put is durable once both are.
    await Promise.all([this.#dirSyncs.sync(leaf), dir.durable]);
  }

  /** No directory fsync: a deleted chunk that reappears after a crash is only reported and deleted again. */
  async remove(hashes: string[]): Promise<void> {
    const paths = hashes.flatMap((hash) => [chunkPath(this.#dir, hash), manifestPath(this.#dir, hash)]);
    await Promise.all([...paths.map((path) => rm(path, { force: true })), (await this.#opened()).remove(hashes)]);
  }

  /** The disk's free space as an unprivileged process may use it, so a node never counts on root's reserve. */
  async room(): Promise<number> {
    const fs = await statfs(this.#dir);
    return fs.bavail * fs.bsize;
  }

  /** Indexes the chunks on disk by file size; their bytes are checked on read, not here, so opening stays fast. */
  async scan(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    const sizeOf = async (hash: string, path: string): Promise<void> => {
      // A chunk deleted between readdir and stat is not held.
      const size = (await unlessMissing(stat(path)))?.size;
      if (size !== undefined) sizes.set(hash, size);
    };
    // The top directory must be there: a missing one is a disk gone, not an empty store.
    await this.#walk(this.#dir, sizeOf);
    await unlessMissing(this.#walk(join(this.#dir, MANIFESTS_DIR), sizeOf));
    for (const [hash, size] of await (await this.#opened()).scan()) sizes.set(hash, size);
    return sizes;
  }

  async manifests(): Promise<string[]> {
    const hashes = new Set((await this.#opened()).manifests());
    await unlessMissing(this.#walk(join(this.#dir, MANIFESTS_DIR), async (hash) => void hashes.add(hash)));
    return [...hashes];
  }

  async close(): Promise<void> {
    await (await this.#packs?.catch(() => null))?.close();
  }

  /**
   * Visits every chunk file in `root`'s prefix directories. Temp files no write of ours is using
   * are removed: a put that crashed before its rename was never acknowledged, so nobody is owed
   * those bytes.
   */
  async #walk(root: string, visit: (hash: string, path: string) => Promise<void>): Promise<void> {
    // A prefix directory may vanish between two readdirs when its last chunk is deleted.
    for (const a of await prefixDirs(root)) {
      for (const b of (await unlessMissing(prefixDirs(join(root, a)))) ?? []) {
        const leaf = join(root, a, b);
        for (const entry of (await unlessMissing(readdir(leaf, { withFileTypes: true }))) ?? []) {
          if (!entry.isFile()) continue;
          const path = join(leaf, entry.name);
          if (TEMP_RE.test(entry.name)) {
            if (!this.#writing.has(path)) await rm(path, { force: true });
          } else if (isChunkHash(entry.name) && entry.name.startsWith(a + b)) {
            await visit(entry.name, path);
          }
        }
      }
    }
  }

  #dirReady(leaf: string): LeafDir {
    let ready = this.#readyDirs.get(leaf);
    if (!ready) {
      const made = mkdir(leaf, { recursive: true, mode: 0o700 });
      // A new directory survives power loss only once its parent's entry for it does, at every
      // level created; those fsyncs may run while the first chunk is written into it.
      const durable = made.then(async (created) => {
        if (created === undefined) return;
        const parents: string[] = [];
        for (let dir = leaf; dir !== dirname(created); dir = dirname(dir)) parents.push(dirname(dir));
        await Promise.all(parents.map((parent) => this.#dirSyncs.sync(parent)));
      });
      ready = { made: made.then(() => {}), durable };
      this.#readyDirs.set(leaf, ready);
      durable.catch(() => this.#readyDirs.delete(leaf));
    }
    return ready;
  }

}

/** A node's chunks on its own disk, hashed with node:crypto on the calling thread. */
export class DiskChunkStore extends VerifiedChunkStore {
  private constructor(dir: string, capacityBytes: number, layout: DiskLayoutOptions) {
    super(new DiskChunkBackend(dir, layout), capacityBytes, sha256Hex);
  }

  /** Resolves once `dir` is indexed and cleared of crashed puts' temp files. */
  static async open(dir: string, capacityBytes: number, layout: DiskLayoutOptions = {}): Promise<DiskChunkStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Also one an earlier release made with the default mode, so its older files are out of others' reach.
    await chmod(dir, 0o700);
    const store = new DiskChunkStore(dir, capacityBytes, layout);
    await store.ready();
    return store;
  }
}

/** A leaf directory: `made` once it exists, `durable` once its entry, and any parent made with it, is on the disk. */
interface LeafDir {
  made: Promise<void>;
  durable: Promise<void>;
}

async function prefixDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && PREFIX_RE.test(e.name)).map((e) => e.name);
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function unlessMissing<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}
