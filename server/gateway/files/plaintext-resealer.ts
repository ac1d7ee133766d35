import { TokenBucket } from '../../lib/token-bucket.ts';
import { allFiles } from '../metadata/all-files.ts';
import type { FileChunk, FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UploadsInFlight } from '../replicas/uploads-in-flight.ts';
import type { FileWriter } from './file-writer.ts';

export interface ResealerOptions {
  replicas: number;
  /** Plaintext read and written again per second at most, so a migration does not crowd out clients. */
  bytesPerSecond: number;
}

/**
 * Encrypts what was stored before encryption: each file with plaintext chunks has them read
 * (verified by hash), sealed and written to R nodes, then swapped in as a new version of the same
 * content (FileWriter.reseal, under the name's lock, only if the file did not change meanwhile).
 * The plaintext copies, no longer referenced, are deleted like a replaced version's. Until then
 * they stay readable as they are. Files are done one at a time, at a limited rate; a pass stops
 * at the first failure (too few nodes) and the next one goes on.
 */
export class PlaintextResealer {
  readonly #metadata: MetadataStore;
  readonly #replicas: ReplicaStore;
  readonly #uploads: UploadsInFlight;
  readonly #writer: FileWriter;
  readonly #options: ResealerOptions;
  readonly #rate: TokenBucket;
  #running: Promise<number> | null = null;
  /** A pass found nothing left in plaintext: everything written since is sealed, so there is no need to look again. */
  #done = false;

  constructor(metadata: MetadataStore, replicas: ReplicaStore, uploads: UploadsInFlight, writer: FileWriter, options: ResealerOptions) {
    this.#metadata = metadata;
    this.#replicas = replicas;
    this.#uploads = uploads;
    this.#writer = writer;
    this.#options = options;
    this.#rate = new TokenBucket(options.bytesPerSecond);
  }

  /** One pass over the files; a pass under way is joined. Resolves with the files resealed. */
  run(): Promise<number> {
    if (this.#done) return Promise.resolve(0);
    this.#running ??= this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(): Promise<number> {
    let resealed = 0;
    let left = false;
    for await (const file of allFiles(this.#metadata)) {
      if (file.chunks.every((chunk) => chunk.key !== undefined)) continue;
      if (await this.#reseal(file)) resealed++;
      else left = true;
    }
    this.#done = !left;
    return resealed;
  }

  async #reseal(file: FileRecord): Promise<boolean> {
    const copies = this.#uploads.begin();
    const pinned: string[] = [];
    let swapped = false;
    try {
      const chunks: FileChunk[] = [];
      const recorded = await this.#metadata.getChunks([...new Set(file.chunks.map((chunk) => chunk.hash))]);
      for (const chunk of file.chunks) {
        if (chunk.key !== undefined) {
          chunks.push(chunk);
          continue;
        }
        await this.#rate.take(chunk.size);
        const plain = await this.#replicas.read(chunk.hash, recorded.get(chunk.hash)?.nodeIds ?? []);
        const { sealed, chunk: sealedChunk } = this.#writer.seal(plain);
        pinned.push(sealedChunk.hash);
        copies.add(sealedChunk.hash, sealed.length, await this.#replicas.storeForUpload(sealedChunk.hash, sealed, this.#options.replicas));
        chunks.push(sealedChunk);
      }
      swapped = await this.#writer.reseal(file, chunks, copies);
      return swapped;
    } finally {
      for (const hash of pinned) this.#replicas.unpin(hash);
      // Sealed copies of a file that changed meanwhile, or of a pass that failed, are nobody's.
      if (!swapped) await this.#replicas.discardUpload(copies, pinned).catch(() => this.#replicas.releaseFailedUpload(pinned));
      copies.end();
    }
  }
}
