import { randomBytes } from 'node:crypto';
import { ShoalError } from '../../../shared/errors.ts';
import { KeyedLock } from '../../../shared/keyed-lock.ts';
import type { ChunkRecord, FileChunk, FileRecord } from '../metadata/metadata-store.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { FileWriter, PinnedChunks } from './file-writer.ts';

/** One part of an upload in parts, stored durably and not yet part of a file. */
export interface PartRecord {
  number: number;
  size: number;
  /** What the caller computed of the part's bytes while they streamed (S3: the MD5, hex); opaque here. */
  digest: string;
  chunks: FileChunk[];
  /** Where the chunks' copies were written: recorded with the file at completion. */
  records: ChunkRecord[];
  createdAt: string;
}

export type PartInfo = Omit<PartRecord, 'chunks' | 'records'>;

/** What a resumable (tus) session keeps besides its parts; S3's sessions have none and expire by age. */
export interface ResumableSession {
  /** The file the upload becomes. */
  name: string;
  /** Its declared length in bytes. */
  length: number;
  /** When it ends unless a request moves this on. */
  expiresAt: string;
}

export interface SessionRecord {
  id: string;
  createdAt: string;
  resumable?: ResumableSession;
}

/** Where sessions and their parts are kept; async so another database can implement it. */
export interface PartStore {
  createSession(id: string, createdAt: string, resumable?: ResumableSession): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Moves a resumable session's expiry; nothing for a session gone. */
  setExpiry(id: string, expiresAt: string): Promise<void>;
  /** Records a part, replacing the one of that number; answers the replaced one. */
  putPart(sessionId: string, part: PartRecord): Promise<PartRecord | undefined>;
  /** The session's parts by number. */
  listParts(sessionId: string): Promise<PartRecord[]>;
  /** Forgets a session and answers its parts. */
  deleteSession(id: string): Promise<PartRecord[]>;
  /** Every session: what a start pins again, what expiry looks at. */
  listSessions(): Promise<SessionRecord[]>;
}

/**
 * Uploads in parts (S3 multipart, resumable uploads): a session holds numbered parts, each a body
 * streamed into durable chunks on R nodes by FileWriter.storeChunks and recorded here, never held
 * in memory whole; completing commits the chosen parts, in order, as one file without copying a
 * byte; aborting releases the parts' chunks. While a session lives its chunks are pinned, so
 * collection leaves them be; a gateway restart pins them again (`start`) before collection could
 * run, as its grace period has to pass first.
 */
export class UploadParts {
  readonly #writer: FileWriter;
  readonly #replicas: ReplicaStore;
  readonly #store: PartStore;
  /** A session changes one step at a time: a part replaced while the upload completes is either in the file or released. */
  readonly #sessions = new KeyedLock();
  /**
   * The parts this gateway pinned, by session. Another gateway over the same database may complete
   * or abort the session, and only this one can end its own pins: `#forgetEnded` looks for such.
   */
  readonly #pinned = new Map<string, Set<PartRecord>>();
  #sweep: ReturnType<typeof setInterval> | null = null;

  constructor(writer: FileWriter, replicas: ReplicaStore, store: PartStore) {
    this.#writer = writer;
    this.#replicas = replicas;
    this.#store = store;
  }

  /**
   * Pins the chunks of every session a previous run left, before anything could collect them, then
   * every `sweepMs` ends the pins of sessions another gateway ended.
   */
  async start(sweepMs = ENDED_SWEEP_MS): Promise<void> {
    for (const { id } of await this.#store.listSessions()) for (const part of await this.#store.listParts(id)) this.#pin(id, part);
    this.#sweep = setInterval(() => void this.#forgetEnded().catch(() => {}), sweepMs);
    this.#sweep.unref();
  }

  stop(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
  }

  async #forgetEnded(): Promise<void> {
    for (const sessionId of [...this.#pinned.keys()]) {
      await this.#sessions.run([sessionId], async () => {
        if (!(await this.exists(sessionId))) this.#unpin(sessionId, [...(this.#pinned.get(sessionId) ?? [])]);
      });
    }
  }

  /**
   * The chunks of every session open now, this gateway's or another's over the same database:
   * what collection leaves be, since pins here know only of this gateway's sessions.
   */
  async chunksInUse(): Promise<Set<string>> {
    return new Set((await this.#openParts()).flatMap((part) => part.chunks.map((chunk) => chunk.hash)));
  }

  async #openParts(): Promise<PartRecord[]> {
    const parts: PartRecord[] = [];
    for (const { id } of await this.#store.listSessions()) parts.push(...(await this.#store.listParts(id)));
    return parts;
  }

  /** Opens a session; a resumable one says what file it becomes and when it expires. */
  async begin(resumable?: ResumableSession): Promise<string> {
    const id = randomBytes(18).toString('base64url');
    await this.#store.createSession(id, new Date().toISOString(), resumable);
    return id;
  }

  async exists(sessionId: string): Promise<boolean> {
    return (await this.#store.getSession(sessionId)) !== undefined;
  }

  /** The session, or NOT_FOUND. */
  async session(sessionId: string): Promise<SessionRecord> {
    const session = await this.#store.getSession(sessionId);
    if (!session) throw notFound(sessionId);
    return session;
  }

  /** Every session open, S3's and resumable ones. */
  sessions(): Promise<SessionRecord[]> {
    return this.#store.listSessions();
  }

  setExpiry(sessionId: string, expiresAt: Date): Promise<void> {
    return this.#store.setExpiry(sessionId, expiresAt.toISOString());
  }

  /**
   * Streams `body` into part `number` of the session, replacing a part of that number. `digest` is
   * read once the body has ended, for the caller's checksum of it.
   */
  async put(sessionId: string, number: number, body: ReadableStream<Uint8Array> | null, digest: () => string = () => ''): Promise<PartInfo> {
    await this.#assertSession(sessionId);
    const stored = await this.#writer.storeChunks(body);
    let read: string;
    try {
      read = digest();
    } catch (err) {
      stored.unpin();
      this.#replicas.releaseFailedUpload(stored.chunks.map((c) => c.hash));
      throw err;
    }
    return this.record(sessionId, number, stored, read);
  }

  /**
   * Records chunks stored by FileWriter.storeChunks as part `number`, replacing a part of that
   * number, for callers that store several pieces at once and record them in order (tus). Takes
   * the writer's pins over: the part's pin holds the chunks before they are unpinned. On failure
   * the chunks are released.
   */
  async record(sessionId: string, number: number, stored: PinnedChunks, digest = ''): Promise<PartInfo> {
    const part: PartRecord = { number, size: stored.size, digest, chunks: stored.chunks, records: stored.records, createdAt: new Date().toISOString() };
    this.#pin(sessionId, part);
    stored.unpin();
    try {
      const replaced = await this.#sessions.run([sessionId], async () => {
        await this.#assertSession(sessionId);
        return this.#store.putPart(sessionId, part);
      });
      if (replaced) this.#release(sessionId, [replaced]);
    } catch (err) {
      this.#release(sessionId, [part]);
      throw err;
    }
    return info(part);
  }

  async list(sessionId: string): Promise<PartInfo[]> {
    await this.#assertSession(sessionId);
    return (await this.#store.listParts(sessionId)).map(info);
  }

  /**
   * Commits parts `numbers` (ascending, each stored) one after another as file `name`, and ends the
   * session: parts left out are released. `check` may refuse the parts (sizes, digests) before
   * anything is committed. `sha256` is the whole file's when the caller hashed it as it came.
   */
  async complete(sessionId: string, name: string, numbers: number[], check: (parts: PartRecord[]) => void = () => {}, sha256: string | null = null): Promise<FileRecord> {
    return this.#sessions.run([sessionId], async () => {
      await this.#assertSession(sessionId);
      const stored = new Map((await this.#store.listParts(sessionId)).map((part) => [part.number, part]));
      const parts = numbers.map((n) => stored.get(n)).filter((part) => part !== undefined);
      if (parts.length !== numbers.length) throw new ShoalError('BAD_REQUEST', 'a part named to complete the upload was never stored');
      check(parts);
      const file = await this.#writer.commitChunks(
        name,
        parts.flatMap((part) => part.chunks),
        sha256,
        parts.flatMap((part) => part.records),
      );
      const all = await this.#store.deleteSession(sessionId);
      const used = new Set(numbers);
      this.#unpin(sessionId, parts);
      this.#release(sessionId, all.filter((part) => !used.has(part.number)));
      return file;
    });
  }

  /** Ends the session and releases every part's chunks (collection deletes those no file uses). */
  async abort(sessionId: string): Promise<void> {
    await this.#sessions.run([sessionId], async () => {
      await this.#assertSession(sessionId);
      this.#release(sessionId, await this.#store.deleteSession(sessionId));
    });
  }

  /** Aborts the sessions begun before `before`, but for resumable ones, which expire when idle; answers their ids. */
  async expire(before: Date): Promise<string[]> {
    const old = (await this.#store.listSessions()).filter((s) => !s.resumable && new Date(s.createdAt) < before);
    for (const { id } of old) await this.abort(id).catch(() => {});
    return old.map((s) => s.id);
  }

  async #assertSession(sessionId: string): Promise<void> {
    if (!(await this.exists(sessionId))) throw notFound(sessionId);
  }

  #pin(sessionId: string, part: PartRecord): void {
    this.#replicas.pinForReading(part.chunks.map((c) => c.hash));
    const pinned = this.#pinned.get(sessionId) ?? new Set();
    this.#pinned.set(sessionId, pinned.add(part));
  }

  /**
   * Ends this gateway's pins of the session's parts among `parts`, matched by part number: a part
   * read back from the store is another object than the one pinned, and a part pinned elsewhere is
   * not this gateway's to unpin.
   */
  #unpin(sessionId: string, parts: PartRecord[]): void {
    const pinned = this.#pinned.get(sessionId);
    if (!pinned) return;
    for (const part of parts) {
      const mine = [...pinned].find((held) => held.number === part.number && held.createdAt === part.createdAt);
      if (!mine) continue;
      pinned.delete(mine);
      for (const chunk of mine.chunks) this.#replicas.unpin(chunk.hash);
    }
    if (pinned.size === 0) this.#pinned.delete(sessionId);
  }

  #release(sessionId: string, parts: PartRecord[]): void {
    this.#unpin(sessionId, parts);
    this.#replicas.releaseFailedUpload([...new Set(parts.flatMap((part) => part.chunks.map((c) => c.hash)))]);
  }
}

/** How soon a gateway notices that another ended a session whose parts it pinned. */
const ENDED_SWEEP_MS = 5000;

function notFound(sessionId: string): ShoalError {
  return new ShoalError('NOT_FOUND', `no upload ${JSON.stringify(sessionId)}: it was completed, ended, expired or never begun`);
}

function info({ chunks: _chunks, records: _records, ...part }: PartRecord): PartInfo {
  return part;
}
