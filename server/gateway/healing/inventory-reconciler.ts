import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeLink } from '../nodes/node-link.ts';
import type { NodeReports } from '../nodes/node-server.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';

/**
 * Brings the metadata in line with what nodes report about their own storage: an inventory is the
 * truth about a node's disk, the metadata the truth about what files need. Copies a node lost are
 * rebuilt by repair once the node has joined; chunks no file needs become candidates for
 * collection; damage a scrub found is a lost copy.
 */
export class InventoryReconciler implements NodeReports {
  readonly #metadata: MetadataStore;
  readonly #replicas: ReplicaStore;
  readonly #unreferenced: UnreferencedCopies;

  constructor(metadata: MetadataStore, replicas: ReplicaStore, unreferenced: UnreferencedCopies) {
    this.#metadata = metadata;
    this.#replicas = replicas;
    this.#unreferenced = unreferenced;
  }

  async inventory(link: NodeLink, hashes: string[]): Promise<void> {
    const { unknown } = await this.#metadata.reconcileNode(link.id, hashes);
    this.#unreferenced.note(link.id, unknown);
  }

  async corrupt(link: NodeLink, hashes: string[]): Promise<void> {
    for (const hash of hashes) await this.#replicas.lost(hash, link.id, 'CHUNK_CORRUPT (scrub)');
  }
}
