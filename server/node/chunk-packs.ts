import { crc32 } from 'node:zlib';
import { access, mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkKind } from '../../shared/chunk-store.ts';
import { ShoalError } from '../../shared/errors.ts';
import { DirSyncs } from './dir-syncs.ts';
import { FreeSpace } from './free-space.ts';

export const PACKS_DIR = 'packs';
/** `pack-00000001.v1`: the layout's version is in the name, so a later layout can sit beside this one. */
const PACK_RE = /^pack-(\d{8})\.v1$/;
const packName = (seq: number): string => `pack-${String(seq).padStart(8, '0')}.v1`;

/**
 * A record: magic, type, payload length, the chunk's hash, then a CRC-32 of those 44 bytes, then
 * the payload (none for a removal). The CRC tells a record from the torn tail of a write that
 * never finished; the payload is checked against its hash on every read, like a chunk file's.
 */
const MAGIC = 0x53484b50; // 'SHKP'
const MAGIC_BYTES = Buffer.from([0x53, 0x48, 0x4b, 0x50]);
const HEADER_BYTES = 48;
const TYPES = { chunk: 1, manifest: 2, removed: 3 } as const;
type RecordType = (typeof TYPES)[keyof typeof TYPES];

/** A pack is sealed and a new one started past this size, so compaction rewrites a bounded file. */
const PACK_BYTES = 64 * 1024 * 1024;
/** A sealed pack with less than this share of its bytes live is compacted. */
const LIVE_SHARE = 0.5;

interface Pack {
  seq: number;
  path: string;
  handle: FileHandle;
  /** Bytes of whole records: the next append goes here. */
  size: number;
  /** Bytes of records still the current copy of their chunk. */
  live: number;
  /** Reads under way, which keep a compacted pack's handle open. */
  readers: number;
  gone: boolean;
}

interface Entry {
  pack: Pack;
  /** Where the payload starts. */
  offset: number;
  size: number;
  kind: ChunkKind;
}

interface Pending {
  record: Uint8Array[];
  /**
   * A chunk put, which must leave a pack's worth of the disk free: packs free space only by
   * compacting, which writes a pack's live half before deleting it, and a removal is an append too,
   * so a node that filled its disk with puts could never delete anything again.
   */
  put: boolean;
  /** Runs once the record is durable, at its offset in `pack`: false when the record is no longer wanted. */
  settle: (pack: Pack, offset: number) => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Small chunks in append-only pack files, many to a file: a put costs one share of a write and of
 * an fdatasync that every put arriving meanwhile joins (group commit), rather than a file of its
 * own, a rename and two fsyncs. Records are appended in batches, each written whole and made
 * durable before the next starts, so only the last batch can be torn by a crash and none of it was
 * acknowledged: opening cuts what follows the last record that checks out. A removal is a
 * record too; packs mostly removed are compacted into the current one.
 */
export class ChunkPacks {
  readonly #dir: string;
  readonly #packBytes: number;
  readonly #index = new Map<string, Entry>();
  /** Puts appended and not yet settled, by hash: compaction must not carry a removal past one (#compact). */
  readonly #putting = new Map<string, number>();
  /**
   * The packs holding a put record that is no longer its chunk's copy, by hash: the records a
   * removal must still mask when the node next opens, until compaction deletes their packs.
   */
  readonly #superseded = new Map<string, Set<Pack>>();
  /** Oldest first; the last is the one appended to. */
  readonly #packs: Pack[] = [];
  readonly #dirSyncs = new DirSyncs();
  readonly #freeSpace: FreeSpace;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #compacting: Promise<void> | null = null;

  private constructor(dir: string, packBytes: number) {
    this.#dir = dir;
    this.#packBytes = packBytes;
    // Told by the disk itself within a few packs of the headroom, however fast appends come.
    this.#freeSpace = new FreeSpace(dir, 4 * packBytes);
  }

  /** Reads every pack's records into the index, cutting a torn tail; creates the directory on first use. */
  static async open(nodeDir: string, packBytes = PACK_BYTES): Promise<ChunkPacks> {
    const packs = new ChunkPacks(join(nodeDir, PACKS_DIR), packBytes);
    await packs.#load(nodeDir);
    return packs;
  }

  has(hash: string): boolean {
    return this.#index.has(hash);
  }

  /**
   * Every chunk held in packs, with its size. A pack file deleted behind the node's back (a
   * directory restored from an older copy) takes its chunks with it, found here.
   */
  async scan(): Promise<Map<string, number>> {
    for (const pack of [...this.#packs]) {
      if (pack.gone || (await exists(pack.path))) continue;
      for (const [hash, entry] of this.#index) if (entry.pack === pack) this.#drop(hash);
      for (const [hash, packs] of this.#superseded) if (packs.delete(pack) && packs.size === 0) this.#superseded.delete(hash);
      // Nothing more is appended to it: what went there would be lost with the file's last handle.
      this.#packs.splice(this.#packs.indexOf(pack), 1);
      await this.#retire(pack);
    }
    return new Map([...this.#index].map(([hash, entry]) => [hash, entry.size]));
  }

  manifests(): string[] {
    return [...this.#index].filter(([, entry]) => entry.kind === 'manifest').map(([hash]) => hash);
  }

  async read(hash: string): Promise<Uint8Array | undefined> {
    const entry = this.#index.get(hash);
    return entry && this.#readAt(entry.pack, entry.offset, entry.size);
  }

  async readRange(hash: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    const entry = this.#index.get(hash);
    if (!entry) return undefined;
    const start = Math.min(offset, entry.size);
    return this.#readAt(entry.pack, entry.offset + start, Math.min(length, entry.size - start));
  }

  /** Durable once it resolves. A chunk held as a manifest stays one when put again as a plain chunk. */
  write(hash: string, data: Uint8Array, kind: ChunkKind): Promise<void> {
    const as = this.#index.get(hash)?.kind === 'manifest' ? 'manifest' : kind;
    this.#putting.set(hash, (this.#putting.get(hash) ?? 0) + 1);
    return this.#append([header(TYPES[as], hash, data.length), data], (pack, offset) => this.#place(hash, { pack, offset, size: data.length, kind: as }), true).finally(() => {
      const left = this.#putting.get(hash)! - 1;
      if (left === 0) this.#putting.delete(hash);
      else this.#putting.set(hash, left);
    });
  }

  /** Forgets the chunks at once and appends their removal; compacts a pack that is now mostly removed. */
  async remove(hashes: string[]): Promise<void> {
    const held = hashes.flatMap((hash) => {
      const entry = this.#index.get(hash);
      return entry ? [{ hash, entry }] : [];
    });
    if (held.length === 0) return;
    for (const { hash } of held) this.#drop(hash);
    try {
      await Promise.all(held.map(({ hash }) => this.#append([header(TYPES.removed, hash, 0)], () => {})));
    } catch (err) {
      // Still in its pack (a full disk refuses even a removal): held again, so that a retry
      // appends the removal rather than finding nothing to remove, and reads find it meanwhile.
      for (const { hash, entry } of held) if (!this.#index.has(hash) && this.#packs.includes(entry.pack)) this.#place(hash, entry);
      throw err;
    }
    this.#compacting ??= this.#compact()
      .catch(() => {})
      .finally(() => (this.#compacting = null));
  }

  /** Waits for appends under way, then closes every pack. */
  async close(): Promise<void> {
    await this.#compacting;
    while (this.#flushing) await this.#flushing;
    for (const pack of this.#packs.splice(0)) await pack.handle.close();
  }

  async #readAt(pack: Pack, position: number, length: number): Promise<Uint8Array> {
    pack.readers++;
    try {
      const data = new Uint8Array(length);
      let filled = 0;
      for (let read = -1; read !== 0 && filled < length; filled += read) {
        ({ bytesRead: read } = await pack.handle.read(data, filled, length - filled, position + filled));
      }
      return data.subarray(0, filled);
    } finally {
      if (--pack.readers === 0 && pack.gone) await pack.handle.close();
    }
  }

  #place(hash: string, entry: Entry): void {
    this.#drop(hash);
    this.#index.set(hash, entry);
    entry.pack.live += HEADER_BYTES + entry.size;
  }

  #drop(hash: string): void {
    const entry = this.#index.get(hash);
    if (!entry) return;
    entry.pack.live -= HEADER_BYTES + entry.size;
    this.#index.delete(hash);
    const packs = this.#superseded.get(hash) ?? new Set<Pack>();
    this.#superseded.set(hash, packs.add(entry.pack));
  }

  #append(record: Uint8Array[], settle: Pending['settle'], put = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, put, settle, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Appends what is queued as one write and one fdatasync, batch after batch until the queue is empty. */
  async #flush(): Promise<void> {
    // Let the puts that arrive in this turn of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0) {
      let batch = this.#queue;
      this.#queue = [];
      try {
        batch = await this.#refusePastHeadroom(batch);
        if (batch.length === 0) continue;
        const pack = await this.#current();
        const buffers = batch.flatMap((pending) => pending.record);
        const bytes = buffers.reduce((sum, b) => sum + b.length, 0);
        try {
          this.#freeSpace.spent(bytes);
          await writeAll(pack.handle, buffers, pack.size);
          await pack.handle.datasync();
        } catch (err) {
          this.#freeSpace.forget();
          // Cut what was written of the batch, so the next batch follows the last whole record; a
          // pack that cannot be cut takes no more appends.
          await pack.handle.truncate(pack.size).catch(() => this.#seal());
          throw isCode(err, 'ENOSPC') ? new ShoalError('NODE_FULL', `disk is full: ${(err as Error).message}`, { cause: err }) : err;
        }
        let offset = pack.size;
        pack.size += bytes;
        for (const pending of batch) {
          pending.settle(pack, offset + HEADER_BYTES);
          offset += pending.record.reduce((sum, b) => sum + b.length, 0);
          pending.resolve();
        }
      } catch (err) {
        for (const pending of batch) pending.reject(err);
      }
    }
    this.#flushing = null;
  }

  /** The batch without its puts when they would leave less than a pack's worth of the disk free (Pending.put), which fail NODE_FULL. */
  async #refusePastHeadroom(batch: Pending[]): Promise<Pending[]> {
    const puts = batch.filter((pending) => pending.put);
    if (puts.length === 0) return batch;
    const bytes = puts.reduce((sum, pending) => sum + pending.record.reduce((n, b) => n + b.length, 0), 0);
    const free = await this.#freeSpace.before(bytes, this.#packBytes);
    if (free - bytes >= this.#packBytes) return batch;
    const full = new ShoalError('NODE_FULL', `disk is full: ${free} bytes free, and ${this.#packBytes} are kept for deleting`);
    for (const pending of puts) pending.reject(full);
    return batch.filter((pending) => !pending.put);
  }

  /** The pack appended to: a new one once the last is full, its directory entry durable before any record in it counts. */
  async #current(): Promise<Pack> {
    const last = this.#packs.at(-1);
    if (last && last.size < this.#packBytes) return last;
    const seq = (last?.seq ?? 0) + 1;
    const path = join(this.#dir, packName(seq));
    const pack: Pack = { seq, path, handle: await open(path, 'wx+', 0o600), size: 0, live: 0, readers: 0, gone: false };
    this.#packs.push(pack);
    await this.#dirSyncs.sync(this.#dir);
    return pack;
  }

  #seal(): void {
    const last = this.#packs.at(-1);
    if (last) last.size = Math.max(last.size, this.#packBytes);
  }

  /**
   * Rewrites each sealed pack that is mostly removed: its live chunks are appended to the current
   * pack, and once they are durable there it is deleted. A removal record goes along only while an
   * older pack still holds a put of its chunk, so removals do not pile up. One compaction at a time.
   */
  async #compact(): Promise<void> {
    for (;;) {
      const pack = this.#packs.slice(0, -1).find((p) => p.live < p.size * LIVE_SHARE);
      if (!pack) return;
      const moves: Array<Promise<void>> = [];
      const records = await readRecords(pack.handle, pack.size);
      for (const record of records) {
        const entry = this.#index.get(record.hash);
        if (record.type === TYPES.removed) {
          // Needed only while an older pack still holds a put it masks. Appended now, it comes after
          // every record of the chunk: a chunk put again since (held, or its put queued) would be
          // removed by it when the node next opens.
          const masks = [...(this.#superseded.get(record.hash) ?? [])].some((older) => older.seq < pack.seq);
          const current = this.#index.has(record.hash) || this.#putting.has(record.hash);
          if (masks && !current) moves.push(this.#append([header(TYPES.removed, record.hash, 0)], () => {}));
        } else if (entry?.pack === pack && entry.offset === record.offset + HEADER_BYTES) {
          const data = await this.#readAt(pack, entry.offset, entry.size);
          // Still this pack's copy when it is queued? A put or removal queued later comes after it in the file.
          if (this.#index.get(record.hash) !== entry) continue;
          moves.push(this.#append([header(TYPES[entry.kind], record.hash, entry.size), data], (to, offset) => {
            if (this.#index.get(record.hash) === entry) this.#place(record.hash, { ...entry, pack: to, offset });
          }));
        }
      }
      await Promise.all(moves);
      // A chunk whose record no longer reads as one (its header rotted since it was written) is lost
      // with the pack: forgotten, so reads and scans say it is gone rather than fail on a closed file.
      const unread = pack.live > 0 ? [...this.#index].filter(([, entry]) => entry.pack === pack).map(([hash]) => hash) : [];
      for (const hash of unread) this.#drop(hash);
      this.#packs.splice(this.#packs.indexOf(pack), 1);
      await unlink(pack.path);
      await this.#retire(pack);
      for (const hash of [...records.map((record) => record.hash), ...unread]) {
        const packs = this.#superseded.get(hash);
        if (packs?.delete(pack) && packs.size === 0) this.#superseded.delete(hash);
      }
    }
  }

  /** A pack out of the list: its handle closes once the reads under way are done. */
  async #retire(pack: Pack): Promise<void> {
    pack.gone = true;
    if (pack.readers === 0) await pack.handle.close();
  }

  async #load(nodeDir: string): Promise<void> {
    const created = await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await this.#dirSyncs.sync(nodeDir);
    const seqs = (await readdir(this.#dir))
      .map((name) => PACK_RE.exec(name)?.[1])
      .filter((seq): seq is string => seq !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const path = join(this.#dir, packName(seq));
      const handle = await open(path, 'r+');
      const pack: Pack = { seq, path, handle, size: 0, live: 0, readers: 0, gone: false };
      this.#packs.push(pack);
      const { size } = await handle.stat();
      const records = await readRecords(handle, size);
      for (const record of records) {
        if (record.type === TYPES.removed) this.#drop(record.hash);
        else this.#place(record.hash, { pack, offset: record.offset + HEADER_BYTES, size: record.size, kind: record.type === TYPES.manifest ? 'manifest' : 'chunk' });
      }
      pack.size = records.length === 0 ? 0 : records.at(-1)!.offset + HEADER_BYTES + records.at(-1)!.size;
      // A torn tail: the last batch of a write the crash cut short, none of it acknowledged.
      if (pack.size < size) {
        await handle.truncate(pack.size);
        await handle.datasync();
      }
    }
  }
}

function header(type: RecordType, hash: string, length: number): Uint8Array {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeUInt32BE(MAGIC, 0);
  bytes.writeUInt8(type, 4);
  bytes.writeUInt32BE(length, 8);
  bytes.write(hash, 12, 'hex');
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 44)), 44);
  return bytes;
}

interface RecordHead {
  type: RecordType;
  hash: string;
  size: number;
  /** Where the record starts. */
  offset: number;
}

/**
 * The records of a pack up to `size`. Bytes that are no record (a header rotted on the disk, or a
 * crash's torn write) are skipped to the next header that checks out, so a damaged header costs
 * its own record only; what follows the last record is a torn tail.
 */
async function readRecords(handle: FileHandle, size: number): Promise<RecordHead[]> {
  const records: RecordHead[] = [];
  // Read a window at a time rather than a header each: opening a node reads them all.
  const window = Buffer.alloc(1024 * 1024);
  let windowStart = 0;
  let windowEnd = 0;
  for (let offset = 0; offset + HEADER_BYTES <= size; ) {
    if (offset + HEADER_BYTES > windowEnd) {
      const { bytesRead } = await handle.read(window, 0, window.length, offset);
      windowStart = offset;
      windowEnd = offset + bytesRead;
      if (bytesRead < HEADER_BYTES) break;
    }
    const record = parseHeader(window.subarray(offset - windowStart, offset - windowStart + HEADER_BYTES), offset, size);
    if (record) {
      records.push(record);
      offset += HEADER_BYTES + record.size;
      continue;
    }
    const found = window.subarray(0, windowEnd - windowStart).indexOf(MAGIC_BYTES, offset - windowStart + 1);
    if (found >= 0) offset = windowStart + found;
    else if (windowEnd >= size) break;
    // A magic cut by the window's end is found from the next window, which starts at its first byte.
    else offset = windowEnd - (MAGIC_BYTES.length - 1);
  }
  return records;
}

function parseHeader(head: Buffer, offset: number, size: number): RecordHead | null {
  if (head.readUInt32BE(0) !== MAGIC || head.readUInt32BE(44) !== crc32(head.subarray(0, 44))) return null;
  const type = head.readUInt8(4) as RecordType;
  const length = head.readUInt32BE(8);
  if (!Object.values(TYPES).includes(type) || offset + HEADER_BYTES + length > size) return null;
  return { type, hash: head.toString('hex', 12, 44), size: length, offset };
}

async function writeAll(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= rest[i]!.length) skip -= rest[i++]!.length;
    rest = i < rest.length ? [rest[i]!.subarray(skip), ...rest.slice(i + 1)] : [];
  }
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
