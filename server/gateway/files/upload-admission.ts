import { ShoalError } from '../../../shared/errors.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';

export interface UploadAdmissionOptions {
  replicas: number;
  /** Uploads that may stream at once; more get 503 TOO_MANY_UPLOADS with Retry-After. */
  maxUploads: number;
  /** How long an upload's body may send nothing while the gateway waits for it. */
  idleTimeoutMs: number;
}

/** Seconds a client refused for being one upload too many is asked to wait. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Which uploads may start, decided before a byte of the body is read: at most `maxUploads` at
 * once, and one that declares its size only when that size fits `replicas` times into what the
 * writable nodes have free, less what uploads already admitted still mean to write. The HTTP PUT
 * of files and any other route that takes a body into the cluster (S3) go through here.
 */
export class UploadAdmission {
  readonly #registry: NodeRegistry;
  readonly #options: UploadAdmissionOptions;
  readonly #running = new Set<AdmittedUpload>();

  constructor(registry: NodeRegistry, options: UploadAdmissionOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  /** Takes one of the slots for an upload declaring `declaredBytes` (null: not declared), or says why not. */
  admit(declaredBytes: number | null): AdmittedUpload {
    const { maxUploads, idleTimeoutMs } = this.#options;
    if (this.#running.size >= maxUploads) {
      throw new ShoalError('TOO_MANY_UPLOADS', `${maxUploads} uploads are running, the most this gateway takes at once: try again shortly`, {
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      });
    }
    if (declaredBytes !== null && declaredBytes > 0) this.assertFits(declaredBytes);
    const upload = new AdmittedUpload(declaredBytes ?? 0, idleTimeoutMs, () => this.#running.delete(upload));
    this.#running.add(upload);
    return upload;
  }

  /**
   * R copies of `declaredBytes` fit: in all, beside what the uploads running still mean to write,
   * and on R distinct nodes, since a node holds at most one copy of each chunk and so at most the
   * file's size of it. Also for an upload that declares its size before sending it (tus).
   */
  assertFits(declaredBytes: number): void {
    const { replicas } = this.#options;
    const free = this.#registry.writableLinks().map((link) => Math.max(0, link.freeBytes));
    const total = free.reduce((sum, bytes) => sum + bytes, 0);
    const spread = free.reduce((sum, bytes) => sum + Math.min(bytes, declaredBytes), 0);
    const promised = [...this.#running].reduce((sum, upload) => sum + upload.bytesToCome * replicas, 0);
    const needed = declaredBytes * replicas;
    if (needed > spread || needed + promised > total) {
      throw new ShoalError(
        'INSUFFICIENT_STORAGE',
        `${declaredBytes} bytes × ${replicas} replicas do not fit: the writable nodes have ${total} bytes free` +
          (promised > 0 ? `, ${promised} of them promised to uploads in progress` : '') +
          (needed > spread ? `, and no file can use more than its own size on one node` : ''),
      );
    }
  }
}

/** An upload holding a slot until `end()`; its body is read through `body()`. */
export class AdmittedUpload {
  readonly #declared: number;
  readonly #idleTimeoutMs: number;
  readonly #end: () => void;
  #read = 0;

  constructor(declared: number, idleTimeoutMs: number, end: () => void) {
    this.#declared = declared;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#end = end;
  }

  /** Of the declared size, what has not arrived yet. */
  get bytesToCome(): number {
    return Math.max(0, this.#declared - this.#read);
  }

  /**
   * The request body, pulled only as fast as the upload consumes it. A wait for the client longer
   * than the idle timeout fails the read with UPLOAD_IDLE; time the gateway spends storing what
   * came, with the client waiting on it, never counts: only a pull waits on the timer. Ending this
   * early leaves `source` to the HTTP server rather than ending it: ending it would destroy the
   * socket before the error answer goes out; the server reads off what is left after the answer,
   * or closes the connection.
   */
  async *body(source: AsyncIterable<Uint8Array> | null): AsyncGenerator<Uint8Array> {
    const pieces = source?.[Symbol.asyncIterator]();
    if (!pieces) return;
    for (;;) {
      const { done, value } = await this.#pull(pieces);
      if (done) return;
      this.#read += value.length;
      yield value;
    }
  }

  async #pull(pieces: AsyncIterator<Uint8Array>): Promise<IteratorResult<Uint8Array>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ShoalError('UPLOAD_IDLE', `the upload sent nothing for ${this.#idleTimeoutMs / 1000} s and was ended`, {
              // The rest of the body will not be read: the connection cannot carry another request.
              headers: { Connection: 'close' },
            }),
          ),
        this.#idleTimeoutMs,
      );
    });
    try {
      return await Promise.race([pieces.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  end(): void {
    this.#end();
  }
}
