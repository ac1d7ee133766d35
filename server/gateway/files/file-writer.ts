import { chunkStream, type ByteSource } from '../../../shared/chunker.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { KeyedLock } from '../../../shared/keyed-lock.ts';
import { createSha256, sha256Hex } from '../../sha256.ts';
import type { EventBus } from '../events/event-bus.ts';
import { maxChunksPerFile, type Manifest, type ManifestSeal } from '../metadata/manifest.ts';
import type { ChunkRecord, FileRecord, ManifestRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UploadCopies, UploadsInFlight } from '../replicas/uploads-in-flight.ts';

export interface FileWriterOptions {
  replicas: number;
  chunkSize: number;
  maxFileBytes: number;
  /** Chunks of one upload being replicated at once; more waits, which pauses reading the request body. */
  uploadWindow: number;
}

export interface ManifestOptions {
  seal: ManifestSeal;
  /** The largest version the metadata holds: every new one is past it. */
  lastVersion: number;
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
  #lastVersion: number;
  /** A name changes one version at a time, from taking its version to committing it: its versions grow in commit order. */
  readonly #names = new KeyedLock();
  /** The smaller of --max-file-size and the largest file whose manifest fits in one chunk. */
  readonly #maxFileBytes: number;
  #writingMissingManifests = false;

  constructor(
    replicas: ReplicaStore,
    uploads: UploadsInFlight,
    registry: NodeRegistry,
    metadata: MetadataStore,
    events: EventBus,
    manifests: ManifestOptions,
    options: FileWriterOptions,
  ) {
    this.#replicas = replicas;
    this.#uploads = uploads;
    this.#registry = registry;
    this.#metadata = metadata;
    this.#events = events;
    this.#seal = manifests.seal;
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
      throw new ShoalError('INSUFFICIENT_NODES', `${online} node(s) online, ${replicas} needed for ${replicas} replicas`);
    }
    if (declaredBytes !== null && declaredBytes > maxFileBytes) {
      throw new ShoalError('FILE_TOO_LARGE', `file of ${declaredBytes} bytes exceeds the maximum of ${maxFileBytes}`);
    }
  }

  /**
   * Streams a body into replicated chunks and commits the file once every chunk is durable on its
   * replicas. At most `uploadWindow` chunks are in flight: while the window is full the body is
   * not read, so TCP backpressure reaches the client and memory stays at a few chunks. Any failure
   * before the commit leaves no file behind.
   */
  async store(name: string, body: ReadableStream<Uint8Array> | null): Promise<FileRecord> {
    const { replicas, chunkSize, uploadWindow } = this.#options;
    const maxFileBytes = this.#maxFileBytes;
    const fileHash = createSha256();
    const hashes: string[] = [];
    const copies = this.#uploads.begin();
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let size = 0;

    const replicate = async (hash: string, data: Uint8Array): Promise<void> => {
      copies.add(hash, data.length, await this.#replicas.storeForUpload(hash, data, replicas));
    };

    try {
      for await (const chunk of chunkStream(fromClient(body ?? []), chunkSize)) {
        size += chunk.length;
        if (size > maxFileBytes) throw new ShoalError('FILE_TOO_LARGE', `upload exceeds the maximum of ${maxFileBytes} bytes`);
        fileHash.update(chunk);
        const hash = sha256Hex(chunk);
        hashes.push(hash);
        const task = replicate(hash, chunk).catch((err: unknown) => {
          failure ??= err;
        });
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        while (inFlight.size >= uploadWindow) await Promise.race(inFlight);
        if (failure) throw failure;
      }
      await Promise.all(inFlight);
      if (failure) throw failure;

      const file: FileRecord = {
        name,
        size,
        sha256: fileHash.digest('hex'),
        chunkSize,
        chunks: hashes,
        replicas,
        createdAt: new Date().toISOString(),
      };
      const { committed: unreferenced, lost } = (await this.#commitVersion(
        name,
        copies,
        async (version) => ({ type: 'file', version, file }),
        async (records, manifest) => (await this.#metadata.commitFile(file, records, manifest)).unreferenced,
      ))!;
      this.#events.publish({ type: 'file.added', file: { ...file, chunks: hashes.length } });
      // Copies on nodes that went away during the upload are not recorded; repair restores R.
      for (const { hash, nodeId } of lost) this.#events.publish({ type: 'replica.lost', hash, nodeId, reason: 'node left during the upload' });
      // The file is committed: cleaning up the version it replaced must neither delay nor fail the 201.
      this.#replicas.releaseUnreferenced(unreferenced).catch(() => this.#replicas.releaseFailedUpload(unreferenced));
      return file;
    } catch (err) {
      this.#replicas.releaseFailedUpload(hashes);
      throw err;
    } finally {
      await Promise.allSettled(inFlight);
      copies.end();
      for (const hash of hashes) this.#replicas.unpin(hash);
    }
  }

  /**
   * Takes the name's next version, seals `manifestFor` it into a manifest (null: nothing to do),
   * stores that on R nodes beside what `copies` holds, and runs `commit` with the records to commit,
   * all holding the name's lock. A failure on the way releases the manifest. Resolves with what
   * `commit` did and the copies lost on nodes that went away meanwhile, or null.
   */
  async #commitVersion<T>(
    name: string,
    copies: UploadCopies,
    manifestFor: (version: number) => Promise<Manifest | null>,
    commit: (records: ChunkRecord[], manifest: ManifestRecord) => Promise<T>,
  ): Promise<{ committed: T; lost: Array<{ hash: string; nodeId: string }> } | null> {
    return this.#names.run([name], async () => {
      this.#lastVersion = Math.max(Date.now() * 1000, this.#lastVersion + 1);
      const version = this.#lastVersion;
      const manifest = await manifestFor(version);
      if (!manifest) return null;
      const bytes = this.#seal.encode(manifest);
      const hash = sha256Hex(bytes);
      try {
        copies.add(hash, bytes.length, await this.#replicas.storeForUpload(hash, bytes, this.#options.replicas, 'manifest'));
        const { records, lost } = copies.surviving(this.#registry);
        await this.#assertEveryChunkHeld(records);
        const chunk = records.find((record) => record.hash === hash)!;
        return { committed: await commit(records.filter((record) => record !== chunk), { version, chunk }), lost };
      } catch (err) {
        this.#replicas.releaseFailedUpload([hash]);
        throw err;
      } finally {
        this.#replicas.unpin(hash);
      }
    });
  }

  /**
   * The last check before a 201: every chunk has a copy on a node still connected, recorded before
   * or written by this upload on the session that holds it now. One short of R is repaired after
   * the commit; one with none fails the upload.
   */
  async #assertEveryChunkHeld(records: ChunkRecord[]): Promise<void> {
    const recorded = await this.#metadata.getChunks(records.map((r) => r.hash));
    for (const record of records) {
      const held = record.nodeIds.length + (recorded.get(record.hash)?.nodeIds.filter((id) => this.#registry.readable(id)).length ?? 0);
      if (held === 0) {
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
      await this.#replicas.releaseUnreferenced(removed.unreferenced);
    } finally {
      copies.end();
    }
  }

  /**
   * Gives a manifest to each file stored before manifests existed, so that recovery finds it too;
   * one replaced or deleted meanwhile has one already. Stops at the first failure (too few nodes):
   * the next call goes on.
   */
  async writeMissingManifests(): Promise<void> {
    if (this.#writingMissingManifests) return;
    this.#writingMissingManifests = true;
    try {
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
    } finally {
      this.#writingMissingManifests = false;
    }
  }
}

/** A request body that breaks off (the client went away) is the client's doing, not a gateway fault. */
async function* fromClient(body: ByteSource): AsyncGenerator<Uint8Array> {
  try {
    yield* body as AsyncIterable<Uint8Array>;
  } catch (err) {
    throw new ShoalError('UPLOAD_INCOMPLETE', `the upload broke off before its end: ${(err as Error).message}`, { cause: err });
  }
}
