import { ShoalError } from '../../../shared/errors.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';

/** Wrong answers after which a node is quarantined: one could be a fluke, three are a habit. */
const QUARANTINE_AFTER = 3;
/** Chunks remembered per node as served wrong; past this the oldest is forgotten first. */
const SUSPECT_LIMIT = 10_000;

/**
 * What the gateway learned of nodes that served wrong bytes. A node checks every chunk it serves,
 * so an answer that fails the gateway's own hash check is not damage the node could have missed:
 * the node is suspect for that chunk and gets no new copy of it. After QUARANTINE_AFTER such
 * answers it is quarantined: still read from (every read is checked), given no new copies, its
 * copies not counted toward R, across reconnects and restarts, until an admin trusts it again.
 */
export class NodeTrust {
  readonly #metadata: MetadataStore;
  readonly #registry: NodeRegistry;
  /** nodeId -> chunks it served wrong, oldest first. */
  readonly #suspect = new Map<string, Set<string>>();
  readonly #wrongAnswers = new Map<string, number>();

  constructor(metadata: MetadataStore, registry: NodeRegistry) {
    this.#metadata = metadata;
    this.#registry = registry;
  }

  isSuspect(nodeId: string, hash: string): boolean {
    return this.#suspect.get(nodeId)?.has(hash) === true;
  }

  /** Never rejects: it runs inside a read, which must go on to the next copy whatever happens here. */
  async servedWrongBytes(nodeId: string, hash: string): Promise<void> {
    const hashes = this.#suspect.get(nodeId) ?? new Set<string>();
    hashes.add(hash);
    if (hashes.size > SUSPECT_LIMIT) hashes.delete(hashes.values().next().value!);
    this.#suspect.set(nodeId, hashes);
    const wrong = (this.#wrongAnswers.get(nodeId) ?? 0) + 1;
    this.#wrongAnswers.set(nodeId, wrong);
    if (wrong < QUARANTINE_AFTER) return;
    const reason = `answered ${wrong} reads with wrong bytes, the last for chunk ${hash.slice(0, 12)}`;
    const link = this.#registry.link(nodeId);
    // At once, before the store is written: no new copy may go to it meanwhile.
    if (link && link.quarantine === null) link.quarantine = reason;
    try {
      const record = await this.#metadata.getNode(nodeId);
      if (!record || record.quarantine !== null) return;
      await this.#metadata.setQuarantine(nodeId, reason);
      await this.#registry.publish('node.stats', nodeId);
    } catch {
      // The link is quarantined for this session; its next wrong answer tries to record it again.
    }
  }

  /** An admin vouches for the node: its quarantine and every suspicion of it are cleared. */
  async trust(nodeId: string): Promise<void> {
    if (!(await this.#metadata.setQuarantine(nodeId, null))) throw new ShoalError('NODE_NOT_FOUND', `no node ${JSON.stringify(nodeId)}`);
    this.forget(nodeId);
    const link = this.#registry.link(nodeId);
    if (link) link.quarantine = null;
  }

  /** The node is gone from the cluster, so nothing about it is worth remembering. */
  forget(nodeId: string): void {
    this.#suspect.delete(nodeId);
    this.#wrongAnswers.delete(nodeId);
  }
}
