import { chunkStream, type ByteSource } from '../../../shared/chunker.ts';
import type { PooledBuffer } from '../../lib/buffer-pool.ts';
import { fromClient } from './client-body.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { KeyedLock } from '../../../shared/keyed-lock.ts';
import { createSha256, sha256Hex } from '../../sha256.ts';
import type { EventBus } from '../events/event-bus.ts';
import { maxChunksPerFile, type Manifest, type ManifestSeal } from '../metadata/manifest.ts';
import { sealedSize } from '../metadata/sealed-size.ts';
import type { ChunkRecord, FileChunk, FileRecord, ManifestRecord, MetadataStore } from '../metadata/metadata-store.ts';
import { StaleVersionError } from '../metadata/name-version.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UploadCopies, UploadsInFlight } from '../replicas/uploads-in-flight.ts';
import type { ChunkCipher } from './chunk-cipher.ts';
import type { CryptoWorkers } from './crypto-workers.ts';
import { SMALL_CHUNK_BYTES, type SmallChunkCache } from './small-chunk-cache.ts';

export interface FileWriterOptions {
  replicas: number;
  chunkSize: number;
  maxFileBytes: number;
  /** Chunks of one upload being replicated at once; more waits, which pauses reading the request body. */
  uploadWindow: number;
}

/** Commits of one name refused because other gateways committed it meanwhile, before giving up. */
const VERSION_ATTEMPTS = 5;

export interface SealingOptions {
  seal: ManifestSeal;
  /** What every chunk is encrypted with before it leaves the gateway. */
  cipher: ChunkCipher;
  /** Where an upload's large chunks are sealed, off the event loop. */
  crypto: CryptoWorkers;
  /** The largest version the metadata holds: every new one is past it. */
  lastVersion: number;
  /** Where the plaintext of small chunks sealed here is kept for downloads. */
  smallChunks?: SmallChunkCache | null;
}

/**
 * A body written as durable chunks on R nodes and not yet part of any file: what an upload in
 * parts (S3 multipart, tus) keeps per part, to commit later as one file with commitChunks.
 */
export interface StoredChunks {
  chunks: FileChunk[];
  /** Plaintext bytes, the sum of the chunks' sizes. */
  size: number;
  /** SHA-256 of the plaintext written. */
  sha256: string;
  /** Where the copies were written: commitChunks records them with the file. */
  records: ChunkRecord[];
}

/**
 * StoredChunks as storeChunks answers them: still pinned by the upload that wrote them, so that no
 * release of the same chunks (a failed upload of identical content discarding its copies) can
 * delete them before the caller holds them. The caller takes its own pin, or commits them, then
 * calls `unpin`, on every path; later calls do nothing.
 */
export interface PinnedChunks extends StoredChunks {
  unpin(): void;
}

/**
 * Stores files from streams and deletes them: what changes which files exist. Every change of a
 * name, a new version or a deletion, is also written to the nodes as a manifest before it is
 * committed, so the metadata can be rebuilt from the nodes.
 */
export class FileWriter {
  readonly #replicas: ReplicaStore;
  readonly #uploads: UploadsInFlight;
  readonly #registry: NodeRegistry;
  readonly #metadata: MetadataStore;
  readonly #events: EventBus;
  readonly #options: FileWriterOptions;
  readonly #seal: ManifestSeal;
  readonly #cipher: ChunkCipher;
  readonly #crypto: CryptoWorkers;
  readonly #smallChunks: SmallChunkCache | null;
  #lastVersion: number;
  /** A name changes one version at a time, from taking its version to committing it: its versions grow in commit order. */
  readonly #names = new KeyedLock();
  /** The smaller of --max-file-size and the largest file whose manifest fits in one chunk. */
  readonly #maxFileBytes: number;

  constructor(
    replicas: ReplicaStore,
    uploads: UploadsInFlight,
    registry: NodeRegistry,
    metadata: MetadataStore,
    events: EventBus,
    manifests: SealingOptions,
    options: FileWriterOptions,
  ) {
    this.#replicas = replicas;
    this.#uploads = uploads;
    this.#registry = registry;
    this.#metadata = metadata;
    this.#events = events;
    this.#seal = manifests.seal;
    this.#cipher = manifests.cipher;
    this.#crypto = manifests.crypto;
    this.#smallChunks = manifests.smallChunks ?? null;
    this.#lastVersion = manifests.lastVersion;
    this.#options = options;
    this.#maxFileBytes = Math.min(options.maxFileBytes, maxChunksPerFile(options.chunkSize) * options.chunkSize);
  }

  /** Refuses an upload before its body is read when the cluster cannot hold it. */
  assertCanAccept(declaredBytes: number | null): void {
    const { replicas } = this.#options;
    const maxFileBytes = this.#maxFileBytes;
    const online = this.#registry.writableLinks().length;
    if (online < replicas) {
      throw new ShoalError('INSUFFICIENT_NODES', `${online} node(s) online and linked to this gateway, ${replicas} needed for ${replicas} replicas`);
    }
    if (declaredBytes !== null && declaredBytes > maxFileBytes) {
      throw new ShoalError('FILE_TOO_LARGE', `file of ${declaredBytes} bytes exceeds the maximum of ${maxFileBytes}`);
    }
  }

  /**
   * Streams a body into replicated chunks and commits the file once every chunk is durable on its
   * replicas. Any failure before the commit leaves no file behind.
   */
  async store(name: string, body: ByteSource | null): Promise<FileRecord> {
    return this.#upload(async (copies, hashes) => {
      const { chunks, sha256 } = await this.#writeChunks(body, copies, hashes);
      return this.#commit(this.#fileOf(name, chunks, sha256), copies, []);
    });
  }

  /**
   * Writes a body as durable chunks on R nodes without committing a file, for uploads in parts:
   * the caller keeps what this returns (its chunks stay only as long as the collector's grace
   * period unless a file references them) and later commits the parts with commitChunks. The
   * chunks come back pinned: the caller unpins them once it holds them itself.
   */
  async storeChunks(body: ByteSource | null): Promise<PinnedChunks> {
    return this.#upload(async (copies, hashes) => {
      const written = await this.#writeChunks(body, copies, hashes);
      const { records } = copies.surviving(this.#registry);
      await this.#assertEveryChunkHeld(records);
      // Nothing can fail past here: the upload's pins leave #upload's hands for the caller's.
      const pins = hashes.splice(0);
      return {
        ...written,
        records,
        unpin: () => {
          for (const hash of pins.splice(0)) this.#replicas.unpin(hash);
        },
      };
    });
  }

  /**
   * Commits a file made of chunks written earlier by storeChunks, in the order given (the parts'
   * chunks one after another), with the records of where they were written. `sha256` is the
   * whole file's when the caller knows it, null when nobody hashed the whole (its ETag is then
   * derived from the chunks: api/file-etag.ts).
   */
  async commitChunks(name: string, chunks: FileChunk[], sha256: string | null, records: ChunkRecord[]): Promise<FileRecord> {
    const hashes = [...new Set(chunks.map((c) => c.hash))];
    this.#replicas.pinForReading(hashes);
    const copies = this.#uploads.begin();
    try {
      return await this.#commit(this.#fileOf(name, chunks, sha256), copies, records);
    } finally {
      copies.end();
      for (const hash of hashes) this.#replicas.unpin(hash);
    }
  }

  /**
   * Seals one chunk of plaintext for the nodes: the bytes to store (storeForUpload under
   * `chunk.hash`) and the FileChunk a file lists. For uploads that cut their own chunks (tus).
   */
  seal(plain: Uint8Array): { sealed: Uint8Array; chunk: FileChunk } {
    return this.#cipher.seal(plain);
  }

  /**
   * Commits `file`, whose chunks `copies` wrote (or the metadata records already), as uploads that
   * cut their own chunks do; the caller keeps its pins and ends `copies` after.
   */
  async commitStored(file: FileRecord, copies: UploadCopies): Promise<FileRecord> {
    return this.#commit(this.#fileOf(file.name, file.chunks, file.sha256), copies, []);
  }

  /**
   * Swaps the chunks of `old`, written in plaintext before encryption, for the sealed `chunks`
   * that `copies` wrote, as a new version of the same content (its digest and creation time kept),
   * unless the file changed meanwhile. The plaintext chunks, now unreferenced, are released like a
   * replaced version's. Says whether it swapped.
   */
  async reseal(old: FileRecord, chunks: FileChunk[], copies: UploadCopies): Promise<boolean> {
    const file: FileRecord = { ...old, chunks };
    const done = await this.#commitVersion(
      old.name,
      copies,
      async (version) => {
        const now = await this.#metadata.getFile(old.name);
        const same = now?.createdAt === old.createdAt && now.chunks.every((chunk, i) => chunk.hash === old.chunks[i]?.hash);
        return same ? { type: 'file', version, file } : null;
      },
      async (records, manifest) => (await this.#metadata.commitFile(file, records, manifest)).unreferenced,
    );
    if (!done) return false;
    this.#settled(done);
    return true;
  }

  /** Runs an upload's `work` with its copies, unpinning the chunks left in `hashes` after and discarding them on failure. */
  async #upload<T>(work: (copies: UploadCopies, hashes: string[]) => Promise<T>): Promise<T> {
    const copies = this.#uploads.begin();
    const hashes: string[] = [];
    let failed = false;
    try {
      return await work(copies, hashes);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      for (const hash of hashes) this.#replicas.unpin(hash);
      if (failed) await this.#replicas.discardUpload(copies, hashes).catch(() => this.#replicas.releaseFailedUpload(hashes));
      copies.end();
    }
  }

  /**
   * Streams a body into sealed chunks replicated on R nodes, each pinned (its hash pushed onto
   * `hashes`) until the caller unpins it. At most `uploadWindow` chunks are in flight: while the
   * window is full the body is not read, so TCP backpressure reaches the client and memory stays
   * at a few chunks.
   */
  async #writeChunks(body: ByteSource | null, copies: UploadCopies, hashes: string[]): Promise<Omit<StoredChunks, 'records'>> {
    const { replicas, chunkSize, uploadWindow } = this.#options;
    const maxFileBytes = this.#maxFileBytes;
    const fileHash = createSha256();
    const written: FileChunk[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let size = 0;

    const replicate = async (hash: string, data: Uint8Array): Promise<void> => {
      copies.add(hash, data.length, await this.#replicas.storeForUpload(hash, data, replicas));
    };

    const chunks = chunkStream(fromClient(body ?? []), chunkSize);
    // A put settles only once its node link holds no reference to the bytes (NodeLink.put), so
    // the buffer goes back for the next chunk once every copy settled, whether written or not.
    const start = (plain: Uint8Array, buffer: PooledBuffer): Promise<void> => {
      size += plain.length;
      fileHash.update(plain);
      // Sealing overwrites the plaintext in place: a small one is kept first.
      const small = this.#smallChunks && plain.length <= SMALL_CHUNK_BYTES ? new Uint8Array(plain) : null;
      // Sealed off the event loop, so chunks finish out of order: each keeps its place in the file.
      const index = written.length++;
      const sealAndReplicate = async (): Promise<void> => {
        const { buffer: back, sealed, chunk } = await this.#crypto.seal(buffer.bytes, plain);
        buffer.moved(back);
        if (small) this.#smallChunks!.put(chunk.hash, small);
        written[index] = chunk;
        hashes.push(chunk.hash);
        await replicate(chunk.hash, sealed);
      };
      return sealAndReplicate()
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(buffer.release);
    };
    try {
      for (;;) {
        // Shared by every upload (UploadsInFlight.chunkBuffers): a buffer is taken before a chunk
        // is read into it and given back once its copies are written. The chunk is read into the
        // buffer's end and sealed over itself from the start (ChunkCipher.seal), so one buffer of
        // the sealed size holds both.
        const buffer = await this.#uploads.chunkBuffers.acquire(sealedSize(chunkSize));
        let plain: Uint8Array | null;
        try {
          plain = await chunks.nextInto(buffer.bytes.subarray(sealedSize(chunkSize) - chunkSize));
          if (plain !== null && size + plain.length > maxFileBytes) throw new ShoalError('FILE_TOO_LARGE', `upload exceeds the maximum of ${maxFileBytes} bytes`);
        } catch (err) {
          buffer.release();
          throw err;
        }
        if (plain === null) {
          buffer.release();
          break;
        }
        const task = start(plain, buffer);
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        while (inFlight.size >= uploadWindow) await Promise.race(inFlight);
        if (failure) throw failure;
      }
      await Promise.all(inFlight);
      if (failure) throw failure;
      return { chunks: written, size, sha256: fileHash.digest('hex') };
    } finally {
      await chunks.return().catch(() => {});
      await Promise.allSettled(inFlight);
    }
  }

  #fileOf(name: string, chunks: FileChunk[], sha256: string | null): FileRecord {
    const { replicas, chunkSize } = this.#options;
    const largest = chunks.reduce((max, c) => Math.max(max, c.size), chunkSize);
    if (chunks.length > maxChunksPerFile(largest)) {
      throw new ShoalError('FILE_TOO_LARGE', `a file may have at most ${maxChunksPerFile(largest)} chunks of up to ${largest} bytes, not ${chunks.length}`);
    }
    const size = chunks.reduce((sum, c) => sum + c.size, 0);
    return { name, size, sha256, chunkSize: largest, chunks, replicas, createdAt: new Date().toISOString() };
  }

  /** Commits `file` with the copies `copies` wrote and the `earlier` records of copies written before. */
  async #commit(file: FileRecord, copies: UploadCopies, earlier: ChunkRecord[]): Promise<FileRecord> {
    const { name, chunks } = file;
    const { committed: unreferenced, lost } = (await this.#commitVersion(
      name,
      copies,
      async (version) => ({ type: 'file', version, file }),
      async (records, manifest) => (await this.#metadata.commitFile(file, [...earlier, ...records], manifest)).unreferenced,
      earlier,
    ))!;
    this.#events.publish({ type: 'file.added', file: { ...file, chunks: chunks.length } });
    this.#settled({ committed: unreferenced, lost });
    return file;
  }

  /** After a version is committed: what it replaced is released, and copies lost on the way reported. */
  #settled({ committed: unreferenced, lost }: { committed: string[]; lost: Array<{ hash: string; nodeId: string }> }): void {
    // Copies on nodes that went away during the upload are not recorded; repair restores R.
    for (const { hash, nodeId } of lost) this.#events.publish({ type: 'replica.lost', hash, nodeId, reason: 'node left during the upload' });
    // The file is committed: cleaning up the version it replaced must neither delay nor fail the 201.
    this.#replicas.releaseUnreferenced(unreferenced).catch(() => this.#replicas.releaseFailedUpload(unreferenced));
  }

  /**
   * Takes the name's next version, seals `manifestFor` it into a manifest (null: nothing to do),
   * stores that on R nodes beside what `copies` holds, and runs `commit` with the records to commit,
   * all holding the name's lock. A failure on the way releases the manifest. Resolves with what
   * `commit` did and the copies lost on nodes that went away meanwhile, or null. `earlier` are
   * records of copies written before, by other uploads, that count for the check that every chunk is held.
   */
  async #commitVersion<T>(
    name: string,
    copies: UploadCopies,
    manifestFor: (version: number) => Promise<Manifest | null>,
    commit: (records: ChunkRecord[], manifest: ManifestRecord) => Promise<T>,
    earlier: ChunkRecord[] = [],
  ): Promise<{ committed: T; lost: Array<{ hash: string; nodeId: string }> } | null> {
    return this.#names.run([name], async () => {
      for (let attempt = 1; ; attempt++) {
        // Above the name's stored version too: another gateway, whose clock may run ahead of this
        // one's, may have committed it last. One committing meanwhile makes the commit refuse
        // (StaleVersionError), and the manifest is sealed again above it.
        this.#lastVersion = Math.max(Date.now() * 1000, this.#lastVersion + 1, (await this.#metadata.nameVersion(name)) + 1);
        const version = this.#lastVersion;
        const manifest = await manifestFor(version);
        if (!manifest) return null;
        const bytes = this.#seal.encode(manifest);
        const hash = sha256Hex(bytes);
        try {
          copies.add(hash, bytes.length, await this.#replicas.storeForUpload(hash, bytes, this.#options.replicas, 'manifest'));
          const { records, lost } = copies.surviving(this.#registry);
          await this.#assertEveryChunkHeld([...earlier, ...records]);
          const chunk = records.find((record) => record.hash === hash)!;
          return { committed: await commit(records.filter((record) => record !== chunk), { version, chunk }), lost };
        } catch (err) {
          this.#replicas.releaseFailedUpload([hash]);
          copies.drop(hash);
          if (!(err instanceof StaleVersionError) || attempt >= VERSION_ATTEMPTS) throw err;
        } finally {
          this.#replicas.unpin(hash);
        }
      }
    });
  }

  /**
   * The last check before a 201: every chunk has a copy on a node still connected, recorded before
   * or written by an upload on the session that holds it now. One short of R is repaired after
   * the commit; one with none fails the upload.
   */
  async #assertEveryChunkHeld(records: ChunkRecord[]): Promise<void> {
    // Most uploads wrote every chunk to nodes still here: the metadata is asked only about the others.
    const unheld = records.filter((record) => !record.nodeIds.some((id) => this.#registry.readable(id)));
    if (unheld.length === 0) return;
    const recorded = await this.#metadata.getChunks(unheld.map((r) => r.hash));
    for (const record of unheld) {
      const holders = [...record.nodeIds, ...(recorded.get(record.hash)?.nodeIds ?? [])];
      if (!holders.some((id) => this.#registry.readable(id))) {
        throw new ShoalError('INSUFFICIENT_NODES', `every copy of chunk ${record.hash.slice(0, 12)} was on nodes that left during the upload`);
      }
    }
  }

  /**
   * Removes a file. Its deletion is written to R nodes first, like a version, so that a metadata
   * rebuilt or restored from a backup learns of it too; chunks no other file needs are deleted
   * from the nodes before this resolves.
   */
  async delete(name: string): Promise<void> {
    const deletedAt = new Date().toISOString();
    const copies = this.#uploads.begin();
    try {
      const { committed: removed } = (await this.#commitVersion(
        name,
        copies,
        async (version) => {
          if (!(await this.#metadata.getFile(name))) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(name)}`);
          this.assertCanAccept(null);
          return { type: 'deletion', version, name, deletedAt };
        },
        async (_records, manifest) => (await this.#metadata.deleteFile(name, { ...manifest, deletedAt }))!,
      ))!;
      this.#events.publish({ type: 'file.removed', name });
      // The delete is committed: a clean-up that fails must not answer it with an error.
      await this.#replicas.releaseUnreferenced(removed.unreferenced).catch(() => this.#replicas.releaseFailedUpload(removed.unreferenced));
    } finally {
      copies.end();
    }
  }

  /**
   * Gives a manifest to each file stored before manifests existed, so that recovery finds it too;
   * one replaced or deleted meanwhile has one already. Stops at the first failure (too few nodes):
   * the next call goes on. Never two calls at once: the gateway runs it as a SerialPass.
   */
  async writeMissingManifests(): Promise<void> {
    for (const old of await this.#metadata.filesWithoutManifest()) {
      const copies = this.#uploads.begin();
      try {
        await this.#commitVersion(
          old.name,
          copies,
          async (version) => {
            const now = await this.#metadata.getFile(old.name);
            return now?.createdAt === old.createdAt && now.sha256 === old.sha256 ? { type: 'file', version, file: old } : null;
          },
          (records, manifest) => this.#metadata.commitFile(old, records, manifest),
        );
      } finally {
        copies.end();
      }
    }
  }
}
