import { chunkStream, type ByteSource } from '../../../shared/chunker.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { createSha256, sha256Hex } from '../../sha256.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { ChunkRecord, FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UploadsInFlight } from '../replicas/uploads-in-flight.ts';

export interface FileWriterOptions {
  replicas: number;
  chunkSize: number;
  maxFileBytes: number;
  /** Chunks of one upload being replicated at once; more waits, which pauses reading the request body. */
  uploadWindow: number;
}

/** Stores files from streams and deletes them: what changes which files exist. */
export class FileWriter {
  readonly #replicas: ReplicaStore;
  readonly #uploads: UploadsInFlight;
  readonly #registry: NodeRegistry;
  readonly #metadata: MetadataStore;
  readonly #events: EventBus;
  readonly #options: FileWriterOptions;

  constructor(replicas: ReplicaStore, uploads: UploadsInFlight, registry: NodeRegistry, metadata: MetadataStore, events: EventBus, options: FileWriterOptions) {
    this.#replicas = replicas;
    this.#uploads = uploads;
    this.#registry = registry;
    this.#metadata = metadata;
    this.#events = events;
    this.#options = options;
  }

  /** Refuses an upload before its body is read when the cluster cannot hold it. */
  assertCanAccept(declaredBytes: number | null): void {
    const { replicas, maxFileBytes } = this.#options;
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
    const { replicas, chunkSize, maxFileBytes, uploadWindow } = this.#options;
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
      const { records, lost } = copies.surviving(this.#registry);
      await this.#assertEveryChunkHeld(records);
      const { unreferenced } = await this.#metadata.commitFile(file, records);
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

  /** Removes a file; chunks no other file needs are deleted from the nodes before this resolves. */
  async delete(name: string): Promise<void> {
    const removed = await this.#metadata.deleteFile(name);
    if (!removed) throw new ShoalError('FILE_NOT_FOUND', `no file named ${JSON.stringify(name)}`);
    this.#events.publish({ type: 'file.removed', name });
    await this.#replicas.releaseUnreferenced(removed.unreferenced);
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
