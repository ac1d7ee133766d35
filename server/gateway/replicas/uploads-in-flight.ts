import { BufferPool } from '../../lib/buffer-pool.ts';
import type { ChunkRecord } from '../metadata/metadata-store.ts';
import type { NodeLink } from '../nodes/node-link.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';

/**
 * Copies that uploads have written but not committed yet, each with the session of the node that
 * acknowledged it. Removal safety counts them, so a node is not called safe to remove while it
 * holds the only copies of a file about to be acknowledged.
 */
export class UploadsInFlight {
  readonly #uploads = new Set<UploadCopies>();
  /**
   * Chunks held in the gateway's memory by all uploads together, from the first byte read into one
   * until its copies are written: however many uploads run, they share this many, so memory stays
   * bounded and a full budget pauses reading bodies, which backpressure passes on to the clients.
   * Each buffer holds a chunk, sealed over itself, and is used again by the next chunk.
   */
  readonly chunkBuffers: BufferPool;

  constructor(options: { chunkBuffers: number } = { chunkBuffers: 24 }) {
    this.chunkBuffers = new BufferPool(options.chunkBuffers);
  }

  begin(): UploadCopies {
    const upload = new UploadCopies(() => this.#uploads.delete(upload));
    this.#uploads.add(upload);
    return upload;
  }

  /** hash -> ids of the nodes holding an uncommitted copy, over every upload in flight. */
  copies(): Map<string, Set<string>> {
    const all = new Map<string, Set<string>>();
    for (const upload of this.#uploads) {
      for (const [hash, links] of upload.links()) {
        const ids = all.get(hash) ?? new Set<string>();
        for (const id of links.keys()) ids.add(id);
        all.set(hash, ids);
      }
    }
    return all;
  }
}

export class UploadCopies {
  readonly #chunks = new Map<string, { size: number; links: Map<string, NodeLink> }>();
  readonly #end: () => void;

  constructor(end: () => void) {
    this.#end = end;
  }

  add(hash: string, size: number, links: NodeLink[]): void {
    const chunk = this.#chunks.get(hash) ?? { size, links: new Map<string, NodeLink>() };
    for (const link of links) chunk.links.set(link.id, link);
    this.#chunks.set(hash, chunk);
  }

  /** Forgets the copies of `hash`: a manifest released before its commit, which no record may name. */
  drop(hash: string): void {
    this.#chunks.delete(hash);
  }

  *links(): Iterable<[string, Map<string, NodeLink>]> {
    for (const [hash, chunk] of this.#chunks) yield [hash, chunk.links];
  }

  /**
   * The records to commit: a copy counts only while the session that acknowledged it is still the
   * node's session. A node removed, or back with another session (maybe with an older disk),
   * may not hold what it acknowledged; those copies are returned as lost instead.
   */
  surviving(registry: NodeRegistry): { records: ChunkRecord[]; lost: Array<{ hash: string; nodeId: string }> } {
    const records: ChunkRecord[] = [];
    const lost: Array<{ hash: string; nodeId: string }> = [];
    for (const [hash, { size, links }] of this.#chunks) {
      const nodeIds: string[] = [];
      for (const [id, link] of links) {
        if (registry.link(id) === link) nodeIds.push(id);
        else lost.push({ hash, nodeId: id });
      }
      records.push({ hash, size, nodeIds });
    }
    return { records, lost };
  }

  end(): void {
    this.#end();
  }
}
