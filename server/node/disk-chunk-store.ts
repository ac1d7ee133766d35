import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChunkStore, ChunkStoreStats } from '../../shared/chunk-store.ts';
import { ShoalError } from '../../shared/errors.ts';
import { isChunkHash } from '../../shared/hash.ts';
import { assertRoom } from '../../shared/memory-chunk-store.ts';

const PREFIX_RE = /^[0-9a-f]{2}$/;
/** `<hash>.<uuid>.tmp`: strict enough that a scan never mistakes someone else's file for ours. */
const TEMP_RE = /^[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp$/;

/** Where a chunk lives: `dir/ab/cd/abcd…`, so no directory grows past a few hundred entries. */
export function chunkPath(dir: string, hash: string): string {
  return join(dir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

/**
 * Keeps chunks as files. A chunk is written to a temp file beside its final name, fsynced, renamed
 * into place and its directory fsynced, so a crash leaves either the whole chunk or none of it.
 */
export class DiskChunkStore implements ChunkStore {
  readonly capacityBytes: number;
  readonly #dir: string;
  /** hash -> size of every chunk on disk; rebuilt by scanning on open. */
  readonly #sizes: Map<string, number>;
  #storedBytes = 0;
  /** Bytes promised to puts still writing: counted against capacity so concurrent puts cannot overshoot it. */
  #reservedBytes = 0;
  /** The tail of each hash's queue of mutations (see #exclusive). */
  readonly #busy = new Map<string, Promise<void>>();
  /** Leaf directories known to exist durably, shared by concurrent puts into the same new directory. */
  readonly #readyDirs = new Map<string, Promise<void>>();

  private constructor(dir: string, capacityBytes: number, sizes: Map<string, number>) {
    this.#dir = dir;
    this.capacityBytes = capacityBytes;
    this.#sizes = sizes;
    for (const size of sizes.values()) this.#storedBytes += size;
  }

  static async open(dir: string, capacityBytes: number): Promise<DiskChunkStore> {
    await mkdir(dir, { recursive: true });
    return new DiskChunkStore(dir, capacityBytes, await scan(dir));
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    const actual = sha256Hex(data);
    if (actual !== hash) throw new ShoalError('HASH_MISMATCH', `chunk bytes hash to ${actual}, not ${hash}`);
    await this.#exclusive(hash, async () => {
      // A copy already here is written again rather than trusted: it may have rotted since, and
      // the gateway is about to count this answer as a good replica.
      const present = this.#sizes.has(hash);
      if (!present) assertRoom(this.capacityBytes, this.#storedBytes + this.#reservedBytes, data.length);
      const reserved = present ? 0 : data.length;
      this.#reservedBytes += reserved;
      try {
        await this.#writeDurably(chunkPath(this.#dir, hash), data);
        if (!present) {
          this.#sizes.set(hash, data.length);
          this.#storedBytes += data.length;
        }
      } finally {
        this.#reservedBytes -= reserved;
      }
    });
  }

  async get(hash: string): Promise<Uint8Array> {
    if (!this.#sizes.has(hash)) throw notHeld(hash);
    let data: Buffer;
    try {
      data = await readFile(chunkPath(this.#dir, hash));
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
      // Removed behind our back: stop claiming to hold it, unless a put wrote it again meanwhile.
      await this.#exclusive(hash, async () => {
        if (!(await exists(chunkPath(this.#dir, hash)))) await this.#remove(hash);
      });
      throw notHeld(hash);
    }
    if (sha256Hex(data) !== hash) {
      await this.#exclusive(hash, () => this.#remove(hash));
      throw new ShoalError('CHUNK_CORRUPT', `chunk ${hash} failed its hash check and was dropped`);
    }
    // A plain Uint8Array, like every other store returns, rather than a Buffer whose slice() is a view.
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  async has(hash: string): Promise<boolean> {
    return this.#sizes.has(hash);
  }

  async delete(hashes: string[]): Promise<void> {
    await Promise.all(hashes.map((hash) => this.#exclusive(hash, () => this.#remove(hash))));
  }

  async list(): Promise<string[]> {
    return [...this.#sizes.keys()];
  }

  async stats(): Promise<ChunkStoreStats> {
    return { usedBytes: this.#storedBytes, chunkCount: this.#sizes.size };
  }

  /** Waits for writes and deletes under way, so a clean shutdown leaves no temp files behind. */
  async close(): Promise<void> {
    await Promise.all(this.#busy.values());
  }

  /**
   * Runs one mutation of a hash at a time, so a put, a delete and the dropping of a corrupt copy of
   * the same chunk cannot interleave their renames and unlinks, and two puts of it count once.
   */
  async #exclusive(hash: string, mutate: () => Promise<void>): Promise<void> {
    const before = this.#busy.get(hash);
    const mine = (async () => {
      await before;
      await mutate();
    })();
    const tail = mine.catch(() => {});
    this.#busy.set(hash, tail);
    try {
      await mine;
    } finally {
      if (this.#busy.get(hash) === tail) this.#busy.delete(hash);
    }
  }

  /** No directory fsync: a deleted chunk that reappears after a crash is only reported and deleted again. */
  async #remove(hash: string): Promise<void> {
    const size = this.#sizes.get(hash);
    if (size === undefined) return;
    this.#sizes.delete(hash);
    this.#storedBytes -= size;
    await rm(chunkPath(this.#dir, hash), { force: true });
  }

  async #writeDurably(path: string, data: Uint8Array): Promise<void> {
    const leaf = dirname(path);
    await this.#dirReady(leaf);
    const temp = `${path}.${randomUUID()}.tmp`;
    try {
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      if (isCode(err, 'ENOSPC')) throw new ShoalError('NODE_FULL', `disk is full: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    await syncDir(leaf);
  }

  #dirReady(leaf: string): Promise<void> {
    let ready = this.#readyDirs.get(leaf);
    if (!ready) {
      ready = makeDurableDir(leaf);
      this.#readyDirs.set(leaf, ready);
      ready.catch(() => this.#readyDirs.delete(leaf));
    }
    return ready;
  }
}

/** node:crypto hashes synchronously at ~1.4 GB/s; WebCrypto would copy the chunk to another thread first. */
function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A new directory survives power loss only once its parent's entry for it does, at every level created. */
async function makeDurableDir(leaf: string): Promise<void> {
  const created = await mkdir(leaf, { recursive: true });
  if (created === undefined) return;
  for (let dir = leaf; dir !== dirname(created); dir = dirname(dir)) await syncDir(dirname(dir));
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Indexes the chunks on disk by file size; their bytes are checked on read, not here, so opening stays fast. */
async function scan(dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const a of await prefixDirs(dir)) {
    for (const b of await prefixDirs(join(dir, a))) {
      const leaf = join(dir, a, b);
      for (const entry of await readdir(leaf, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = join(leaf, entry.name);
        if (TEMP_RE.test(entry.name)) {
          // A put that crashed before its rename: never acknowledged, so nobody is owed these bytes.
          await rm(path, { force: true });
        } else if (isChunkHash(entry.name) && entry.name.startsWith(a + b)) {
          sizes.set(entry.name, (await stat(path)).size);
        }
      }
    }
  }
  return sizes;
}

async function prefixDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && PREFIX_RE.test(e.name)).map((e) => e.name);
}

function notHeld(hash: string): ShoalError {
  return new ShoalError('CHUNK_NOT_FOUND', `chunk ${hash} not held`);
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
