import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeLink } from '../nodes/node-link.ts';
import type { NodeReports } from '../nodes/node-server.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';

/** One node's inventory while its pages come in. */
interface Pass {
  /** The copies recorded on the node when its inventory began and that it has not listed yet. */
  unlisted: Promise<Set<string>>;
  /** Pages are worked through one after another, each after the one before. */
  work: Promise<void>;
}

/**
 * Brings the metadata in line with what nodes report about their own storage. A node's word is
 * enough to lose a copy, never to gain one: recorded copies it no longer lists lose their records
 * (repair rebuilds them once it has joined), and what it lists beyond its records becomes a
 * candidate for collection, since only the gateway's own writes are copies. Each page is checked
 * as it comes against the node's records, which the gateway's writes bound, so no number of
 * hashes a node reports is held at once. Damage a scrub found, and a chunk gone from the node's
 * storage while it was online, are lost copies.
 */
export class InventoryReconciler implements NodeReports {
  readonly #metadata: MetadataStore;
  readonly #replicas: ReplicaStore;
  readonly #unreferenced: UnreferencedCopies;
  readonly #passes = new Map<NodeLink, Pass>();

  constructor(metadata: MetadataStore, replicas: ReplicaStore, unreferenced: UnreferencedCopies) {
    this.#metadata = metadata;
    this.#replicas = replicas;
    this.#unreferenced = unreferenced;
  }

  /**
   * Reads the copies recorded on the node before it is welcomed, and so before it lists its store:
   * read later, they could name a copy another gateway stored and recorded in between, which the
   * inventory cannot name, and its record would go.
   */
  async expectInventory(link: NodeLink): Promise<void> {
    await this.#begin(link).unlisted;
  }

  async inventory(link: NodeLink, hashes: string[], done: boolean): Promise<void> {
    const pass = this.#passes.get(link) ?? this.#begin(link);
    pass.work = pass.work.then(async () => {
      const unlisted = await pass.unlisted;
      if (link.state === 'closed') return;
      this.#unreferenced.note(link.id, hashes.filter((hash) => !unlisted.delete(hash)));
      if (!done) return;
      this.#passes.delete(link);
      await this.#metadata.reconcileNode(link.id, [...unlisted]);
    });
    await pass.work;
  }

  /** Only copies recorded on the node are news: a read may have found one gone first, and a node may name any hash. */
  async corrupt(link: NodeLink, hashes: string[], missing: boolean): Promise<void> {
    const reason = missing ? 'CHUNK_NOT_FOUND (missing from storage)' : 'CHUNK_CORRUPT (scrub)';
    const chunks = await this.#metadata.getChunks(hashes);
    for (const hash of hashes) {
      if (chunks.get(hash)?.nodeIds.includes(link.id)) await this.#replicas.lost(hash, link.id, reason);
    }
  }

  /** What the node was listing, and what it may hold that it should not, wait for its next inventory. */
  left(link: NodeLink): void {
    this.#passes.delete(link);
    this.#unreferenced.drop(link.id);
  }

  #begin(link: NodeLink): Pass {
    const pass: Pass = { unlisted: this.#metadata.chunksOnNode(link.id).then((hashes) => new Set(hashes)), work: Promise.resolve() };
    this.#passes.set(link, pass);
    return pass;
  }
}
