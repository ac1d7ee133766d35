import { Worker } from 'node:worker_threads';
import { isErrorCode, ShoalError } from '../../../shared/errors.ts';
import { ownsWholeBuffer } from '../../../shared/whole-buffer.ts';
import type { FileChunk } from '../metadata/metadata-store.ts';
import { chunkCrypto, type ChunkCipher, type StoredSpan } from './chunk-cipher.ts';
import { SEGMENT_BYTES, TAG_BYTES } from '../metadata/sealed-size.ts';

/**
 * Below this a chunk is sealed or opened on the calling thread: a hand-off costs tens of
 * microseconds, which a small file's request would feel and a 4 MiB chunk's ~8 ms of crypto hides.
 */
export const OFFLOAD_BYTES = 256 * 1024;

/**
 * The worker's code, CommonJS evaluated from a string like the WAL checkpointer's, so that it runs
 * the same from the TypeScript sources and from the compiled package without loading either: it
 * is handed chunkCrypto's source (tsx names its functions through a helper, `__name`, given here)
 * and seals and opens in place in the buffer it is handed, which it hands back.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } = require('node:crypto');
const chunkCrypto = new Function('__name', 'return (' + workerData.source + ')')((f) => f);
const corrupt = (message) => Object.assign(new Error(message), { code: 'CHUNK_CORRUPT' });
const cipher = chunkCrypto({ createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, segmentBytes: workerData.segmentBytes, tagBytes: workerData.tagBytes, corrupt }, workerData.dataKey);
parentPort.on('message', (m) => {
  const bytes = new Uint8Array(m.buffer);
  let answer;
  try {
    if (m.op === 'seal') {
      const { sealed, chunk } = cipher.seal(bytes.subarray(m.plainOffset, m.plainOffset + m.plainLength), bytes);
      answer = { id: m.id, buffer: m.buffer, chunk, length: sealed.length };
    } else {
      const plain = cipher.open(m.chunk, m.span, bytes.subarray(0, m.length));
      answer = { id: m.id, buffer: m.buffer, length: plain.length };
    }
  } catch (err) {
    answer = { id: m.id, buffer: m.buffer, error: { code: err && err.code, message: String(err && err.message) } };
  }
  parentPort.postMessage(answer, [m.buffer]);
});
`;

interface Answer {
  id: number;
  buffer: ArrayBuffer;
  length?: number;
  chunk?: FileChunk;
  error?: { code: unknown; message: string };
}

interface Thread {
  worker: Worker;
  pending: Map<number, (answer: Answer | ShoalError) => void>;
}

let nextId = 1;

/**
 * Seals and opens large chunks on worker threads, so that a gateway's crypto (HMAC, AES-GCM and
 * SHA-256 of every chunk uploaded, AES-GCM of every chunk read: ~2 CPU-s per GiB) runs beside its
 * event loop instead of on it. A chunk's buffer is transferred, not copied: the caller gives up
 * the buffer it passes and gets the same memory back as a new view. A worker that dies fails the
 * chunks it held with INTERNAL (their buffers are gone with it), and the next chunk starts a new one.
 */
export class CryptoWorkers {
  readonly #cipher: ChunkCipher;
  readonly #dataKey: string;
  readonly #threads: Array<Thread | null>;
  #closed = false;

  /**
   * `cipher` seals and opens what is small, or not a whole buffer of its own, on the calling
   * thread. Workers start as chunks come, up to `threads`. One is the default: it keeps up with
   * ~500 MB/s of uploads, and each worker's heap holds tens of MB of OpenSSL's per-segment output
   * between its collections, so a second one on a 2-core machine added memory, not speed.
   */
  constructor(cipher: ChunkCipher, dataKey: string, threads = 1) {
    this.#cipher = cipher;
    this.#dataKey = dataKey;
    this.#threads = Array.from({ length: Math.max(1, threads) }, () => null);
  }

  /**
   * Seals the chunk `plain`, which lies in `buffer` at least a tag per segment after its start
   * (ChunkCipher.seal), into `buffer` from its start. `buffer` is given up: what comes back is its
   * memory (`buffer`), the sealed bytes as a view of it, and the chunk.
   */
  async seal(buffer: Uint8Array, plain: Uint8Array): Promise<{ buffer: Uint8Array; sealed: Uint8Array; chunk: FileChunk }> {
    if (plain.buffer !== buffer.buffer) throw new RangeError('the plaintext must lie in the buffer it is sealed into');
    if (plain.length < OFFLOAD_BYTES || !ownsWholeBuffer(buffer)) return { buffer, ...this.#cipher.seal(plain, buffer) };
    const answer = await this.#run({ op: 'seal', plainOffset: plain.byteOffset, plainLength: plain.length }, buffer.buffer as ArrayBuffer);
    const back = new Uint8Array(answer.buffer);
    return { buffer: back, sealed: back.subarray(0, answer.length), chunk: answer.chunk! };
  }

  /**
   * ChunkCipher.open off the event loop: the plaintext of `stored`, decrypted in place, every tag
   * verified (CHUNK_CORRUPT otherwise). `stored` is used up, as there.
   */
  async open(chunk: FileChunk, span: StoredSpan, stored: Uint8Array): Promise<Uint8Array> {
    if (stored.length < OFFLOAD_BYTES) return this.#cipher.open(chunk, span, stored);
    // A chunk that came in one frame with its header (tabs) shares that frame's buffer: copying it
    // out costs a tenth of opening it here. (Not slice(): on a Buffer that is a view of the same memory.)
    const own = ownsWholeBuffer(stored) ? stored : new Uint8Array(stored);
    const answer = await this.#run({ op: 'open', chunk, span, length: own.length }, own.buffer as ArrayBuffer);
    return new Uint8Array(answer.buffer, 0, answer.length);
  }

  /** Ends the workers; chunks still in them fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((thread) => thread?.worker.terminate()));
  }

  async #run(request: Record<string, unknown>, buffer: ArrayBuffer): Promise<Answer> {
    if (this.#closed) throw new ShoalError('INTERNAL', 'the gateway is closing: no chunk is sealed or opened any more');
    const thread = this.#leastBusy();
    const id = nextId++;
    const answer = await new Promise<Answer | ShoalError>((resolve) => {
      thread.pending.set(id, resolve);
      // Held while it has chunks: an idle worker must not keep the process alive.
      if (thread.pending.size === 1) thread.worker.ref();
      try {
        thread.worker.postMessage({ ...request, id, buffer }, [buffer]);
      } catch (err) {
        thread.pending.delete(id);
        if (thread.pending.size === 0) thread.worker.unref();
        resolve(new ShoalError('INTERNAL', `a chunk could not be handed to the crypto worker: ${(err as Error).message}`));
      }
    });
    if (answer instanceof ShoalError) throw answer;
    if (answer.error) throw new ShoalError(isErrorCode(answer.error.code) ? answer.error.code : 'INTERNAL', answer.error.message);
    return answer;
  }

  #leastBusy(): Thread {
    let best = -1;
    for (let i = 0; i < this.#threads.length; i++) {
      const thread = this.#threads[i];
      if (!thread) return (this.#threads[i] = this.#start(i));
      if (best < 0 || thread.pending.size < this.#threads[best]!.pending.size) best = i;
    }
    return this.#threads[best]!;
  }

  #start(slot: number): Thread {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source: chunkCrypto.toString(), dataKey: this.#dataKey, segmentBytes: SEGMENT_BYTES, tagBytes: TAG_BYTES },
      // None of the process's Node.js options (its V8 flags hold for every thread anyway): a loader
      // such as `node --import tsx` in tests and benches would start a thread of its own for a
      // worker that loads no module, costing tens of MB and keeping the process from exiting.
      execArgv: [],
    });
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (answer: Answer) => {
      const settle = thread.pending.get(answer.id);
      thread.pending.delete(answer.id);
      if (thread.pending.size === 0) worker.unref();
      settle?.(answer);
    });
    const stopped = (why: string): void => {
      if (this.#threads[slot] === thread) this.#threads[slot] = null;
      for (const settle of thread.pending.values()) settle(new ShoalError('INTERNAL', `the crypto worker stopped (${why}): the chunks it held are lost`));
      thread.pending.clear();
    };
    worker.on('error', (err) => stopped(err.message));
    worker.on('exit', (code) => stopped(`exit code ${code}`));
    // After the listeners, as a 'message' listener refs the worker's port again.
    worker.unref();
    return thread;
  }
}
