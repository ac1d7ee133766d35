import { chunkStream, type ByteSource } from '../../../shared/chunker.ts';
import { fromClient } from './client-body.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { KeyedLock } from '../../../shared/keyed-lock.ts';
import { createSha256 } from '../../sha256.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UploadCopies, UploadsInFlight } from '../replicas/uploads-in-flight.ts';
import type { FileWriter, PinnedChunks } from './file-writer.ts';
import type { SessionRecord, UploadParts } from './upload-parts.ts';

export interface ResumableUploadsOptions {
  chunkSize: number;
  /** Chunks of one request being replicated at once. */
  uploadWindow: number;
  /** How long an upload may sit idle before its chunks are released. */
  expiryMs: number;
  /** The largest upload accepted, as for a whole upload. */
  maxFileBytes: number;
}

/** What a client may know of an upload: how much of it is stored for good. */
export interface UploadState {
  id: string;
  name: string;
  length: number;
  /** Bytes stored durably on R nodes, from the start: where the client carries on. */
  offset: number;
  expiresAt: Date;
}

/**
 * What this gateway process knows of an upload beyond its session: the copies it wrote (removal
 * safety counts them, and they are deleted at once if the upload ends unfinished) and the file's
 * SHA-256, while it has seen every byte from the first (a restart mid-upload loses it: the file is
 * then committed with its digest unknown, api/file-etag.ts).
 */
interface Running {
  copies: UploadCopies;
  fileHash: ReturnType<typeof createSha256>;
  hashedTo: number;
}

/**
 * Uploads sent in pieces over several requests (the tus protocol), kept as sessions of UploadParts
 * in the metadata's database, so a gateway restart loses none. Each piece streams into replicated
 * chunks through FileWriter.storeChunks (sealed like every chunk), one chunk per call, and each
 * chunk durable on R nodes is recorded, in order, as the session's next part: the offset is the
 * sum of the parts, so a request cut off keeps every chunk that made it and the client sends the
 * rest. The file is committed from the parts, no byte copied, when the last byte is stored; until
 * then it is listed nowhere. The parts' chunks stay pinned meanwhile (again after a restart); an
 * upload idle past its expiry, or ended by the client, releases them.
 */
export class ResumableUploads {
  readonly #parts: UploadParts;
  readonly #replicas: ReplicaStore;
  readonly #registry: NodeRegistry;
  readonly #inFlight: UploadsInFlight;
  readonly #writer: FileWriter;
  readonly #options: ResumableUploadsOptions;
  readonly #running = new Map<string, Running>();
  /**
   * Uploads committed lately, kept until they would have expired: a client whose last answer was
   * lost asks for the offset again and learns that the upload is complete, instead of starting over.
   */
  readonly #finished = new Map<string, UploadState>();
  /** One request at a time writes to an upload; another waits, then finds the offset it left. */
  readonly #requests = new KeyedLock();
  #sweeper: ReturnType<typeof setInterval> | null = null;

  constructor(parts: UploadParts, replicas: ReplicaStore, registry: NodeRegistry, inFlight: UploadsInFlight, writer: FileWriter, options: ResumableUploadsOptions) {
    this.#parts = parts;
    this.#replicas = replicas;
    this.#registry = registry;
    this.#inFlight = inFlight;
    this.#writer = writer;
    this.#options = options;
  }

  get maxFileBytes(): number {
    return this.#options.maxFileBytes;
  }

  /** Pieces should be whole multiples of this: a piece's tail short of a chunk is sent again. */
  get chunkSize(): number {
    return this.#options.chunkSize;
  }

  /** Starts expiring idle uploads; the parts' chunks are pinned by UploadParts.start. */
  start(): void {
    this.#sweeper ??= setInterval(() => void this.sweep().catch(() => {}), Math.max(1000, Math.min(60_000, this.#options.expiryMs / 4)));
    this.#sweeper.unref?.();
  }

  /** Stops expiring uploads; those open stay recorded for the next start. */
  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  /** Checks are the caller's (name, size, nodes online, room); this only opens the upload. */
  async create(name: string, length: number): Promise<UploadState> {
    const expiresAt = this.#expiry();
    const id = await this.#parts.begin({ name, length, expiresAt: expiresAt.toISOString() });
    return { id, name, length, offset: 0, expiresAt };
  }

  async get(id: string): Promise<UploadState> {
    return this.#finished.get(id) ?? this.#public(this.#state(await this.#session(id)));
  }

  /**
   * Stores `body` from `offset`, which must be where the upload stands. Resolves with the new
   * offset; a body that breaks off rejects, keeping the whole chunks stored before the break. A
   * piece that ends short of a chunk boundary, other than the upload's end, is not kept: the
   * client sends it again from the offset it is told.
   */
  append(id: string, offset: number, body: ByteSource): Promise<UploadState> {
    return this.#requests.run([id], async () => {
      const finished = this.#finished.get(id);
      if (finished && offset === finished.length) return finished;
      const session = await this.#session(id);
      const upload = this.#state(session);
      if (offset !== upload.offset) throw new ShoalError('CONFLICT', `the upload stands at byte ${upload.offset}, not ${offset}: ask for its offset and go on from there`);
      await this.#touch(upload);
      const running = this.#runningFor(upload);
      let failure: unknown;
      try {
        await this.#store(upload, running, body);
      } catch (err) {
        failure = err;
      } finally {
        await this.#touch(upload);
      }
      // Complete even when the request failed after its last declared byte (it sent more): the
      // offset already says the upload is whole, and a client told so sends nothing again.
      if (upload.offset === upload.length) await this.#complete(upload, running);
      if (failure !== undefined) throw failure;
      return this.#public(upload);
    });
  }

  /** Ends an upload the client gave up on; its chunks are released. */
  async terminate(id: string): Promise<void> {
    await this.#requests.run([id], async () => {
      if (this.#finished.delete(id)) return;
      // Only a resumable session: the parts' store also holds S3's multipart uploads.
      await this.#session(id);
      await this.#discard(id);
    });
  }

  /** Ends every upload idle past its expiry, those a previous run left too. */
  async sweep(now = Date.now()): Promise<void> {
    for (const [id, finished] of this.#finished) if (finished.expiresAt.getTime() <= now) this.#finished.delete(id);
    const expired = (await this.#parts.sessions()).filter(
      ({ id, resumable }) => resumable && Date.parse(resumable.expiresAt) <= now && !this.#requests.busy(id),
    );
    for (const { id } of expired) {
      await this.#requests
        .run([id], async () => {
          // A request may have moved the expiry on meanwhile.
          const session = await this.#parts.session(id);
          if (Date.parse(session.resumable!.expiresAt) <= now) await this.#discard(id);
        })
        .catch(() => {});
    }
  }

  async #store(upload: UploadState & { parts: number }, running: Running, body: ByteSource): Promise<void> {
    const { chunkSize, uploadWindow } = this.#options;
    const pending: Array<{ data: Uint8Array; stored: Promise<PinnedChunks> }> = [];
    let queued = upload.offset;
    /** A chunk stored but not recorded: one after it recorded in its place would put its bytes at the wrong offset. */
    let gap = false;
    /** The oldest chunk in flight, once durable, is the next part: offsets only ever cover stored chunks in order. */
    const settle = async () => {
      const { data, stored } = pending[0]!;
      const chunks = await stored;
      pending.shift();
      await this.#parts.record(upload.id, upload.parts + 1, chunks).catch((err: unknown) => {
        gap = true;
        throw err;
      });
      upload.parts += 1;
      for (const record of chunks.records) running.copies.add(record.hash, record.size, record.nodeIds.flatMap((id) => this.#registry.link(id) ?? []));
      if (running.hashedTo === upload.offset) {
        running.fileHash.update(data);
        running.hashedTo += data.length;
      }
      upload.offset += data.length;
    };
    try {
      for await (const data of chunkStream(fromClient(body), chunkSize)) {
        if (queued + data.length > upload.length) throw new ShoalError('BAD_REQUEST', `the upload is ${upload.length} bytes long; this request goes past its end`);
        if (data.length < chunkSize && queued + data.length < upload.length) break;
        // One chunk per call: each is durable on its own, so a request cut off keeps all before the cut.
        // The writer's pins hold them until recorded (record takes them over), so that neither
        // collection nor another upload's discard can take them while they wait their turn.
        const stored = this.#writer.storeChunks(bytesStream(data));
        stored.catch(() => {});
        pending.push({ data, stored });
        queued += data.length;
        while (pending.length >= uploadWindow) await settle();
      }
      while (pending.length > 0) await settle();
    } catch (err) {
      // Chunks already on their way may still land: those before the first failure count, those
      // after it are not recorded and go.
      try {
        while (pending.length > 0 && !gap) await settle();
        if (gap) throw err;
      } catch {
        const unrecorded = (await Promise.allSettled(pending.map((p) => p.stored))).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        for (const chunks of unrecorded) chunks.unpin();
        const hashes = unrecorded.flatMap((chunks) => chunks.chunks.map((c) => c.hash));
        if (hashes.length > 0) this.#replicas.releaseFailedUpload(hashes);
      }
      throw err;
    }
  }

  async #complete(upload: UploadState & { parts: number }, running: Running): Promise<void> {
    const numbers = Array.from({ length: upload.parts }, (_, i) => i + 1);
    const sha256 = running.hashedTo === upload.length ? running.fileHash.digest('hex') : null;
    await this.#parts.complete(upload.id, upload.name, numbers, () => {}, sha256);
    this.#finished.set(upload.id, this.#public(upload));
    this.#end(upload.id);
  }

  /** Ends the session and releases its chunks: the copies this run wrote are deleted at once, the rest left to collection. */
  async #discard(id: string): Promise<void> {
    const running = this.#running.get(id);
    try {
      await this.#parts.abort(id);
      if (running) await this.#replicas.discardUpload(running.copies, [...running.copies.links()].map(([hash]) => hash)).catch(() => {});
    } finally {
      this.#end(id);
    }
  }

  #end(id: string): void {
    this.#running.get(id)?.copies.end();
    this.#running.delete(id);
  }

  #runningFor(upload: UploadState): Running {
    let running = this.#running.get(upload.id);
    if (!running) {
      running = { copies: this.#inFlight.begin(), fileHash: createSha256(), hashedTo: upload.offset === 0 ? 0 : -1 };
      this.#running.set(upload.id, running);
    }
    return running;
  }

  /** Moves the expiry on: an upload being written to is not idle. */
  async #touch(upload: UploadState): Promise<void> {
    upload.expiresAt = this.#expiry();
    await this.#parts.setExpiry(upload.id, upload.expiresAt);
  }

  /** A resumable session with its parts: the offset is their sum. */
  async #session(id: string): Promise<SessionRecord & { parts: { size: number }[] }> {
    const session = await this.#parts.session(id);
    if (!session.resumable || Date.parse(session.resumable.expiresAt) <= Date.now()) {
      throw new ShoalError('NOT_FOUND', `no upload ${JSON.stringify(id)} in progress: it finished, was ended, or expired`);
    }
    return { ...session, parts: await this.#parts.list(id) };
  }

  #expiry(): Date {
    return new Date(Date.now() + this.#options.expiryMs);
  }

  #state(session: SessionRecord & { parts: { size: number }[] }): UploadState & { parts: number } {
    const { name, length, expiresAt } = session.resumable!;
    const offset = session.parts.reduce((sum, part) => sum + part.size, 0);
    return { id: session.id, name, length, offset, expiresAt: new Date(expiresAt), parts: session.parts.length };
  }

  #public({ id, name, length, offset, expiresAt }: UploadState): UploadState {
    return { id, name, length, offset, expiresAt };
  }
}

function bytesStream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
}
