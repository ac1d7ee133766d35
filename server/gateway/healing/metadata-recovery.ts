import { setTimeout as sleep } from 'node:timers/promises';
import { manifestName, type Manifest, type ManifestSeal } from '../metadata/manifest.ts';
import type { ChunkRecord, FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import { storedSize } from '../metadata/sealed-size.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ReplicaStore } from '../replicas/replica-store.ts';
import type { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';

export interface RecoveryOptions {
  /** How long to wait for the nodes the metadata knows to report. */
  waitMs: number;
  /** Clear the need for recovery even when some of those nodes did not report. */
  allowMissing: boolean;
  progress: (line: string) => void;
}

/**
 * Manifests read, files recorded and copies read back a page at a time: the reads of a page queue
 * on the nodes' request windows, and what a page records is one transaction, one fsync.
 */
const PAGE = 1000;

export interface RecoveryReport {
  /** The nodes that reported, and those the metadata knows that did not within the wait. */
  nodes: string[];
  missing: string[];
  /** Manifests read and sealed with this cluster's key, and those listed that were not. */
  manifests: number;
  rejected: number;
  /** Names whose newest manifest was newer than the metadata: versions written, deletions recorded. */
  files: number;
  deletions: number;
  /** Copies nodes listed that the metadata lacked, read back intact and recorded; and those that failed. */
  copies: number;
  failedCopies: number;
  waitedSeconds: number;
  seconds: number;
}

interface Found {
  manifest: Manifest;
  hash: string;
  size: number;
}

/**
 * Rebuilds a lost or stale metadata from the nodes. Every change of a name was written to R nodes
 * as a sealed manifest before it was acknowledged, so the newest manifest of each name says what
 * the name is: where it is newer than the metadata (or the metadata has no such name), its file
 * version or its deletion is recorded; names the nodes know nothing newer of stay as they are.
 * Copies the nodes list that the metadata lacks are then read back and verified, one by one,
 * before they are recorded: a node's list is a claim, a copy the gateway has read intact a fact.
 */
export class MetadataRecovery {
  readonly #metadata: MetadataStore;
  readonly #registry: NodeRegistry;
  readonly #replicas: ReplicaStore;
  /** What each node listed that the metadata did not record on it. */
  readonly #claims: UnreferencedCopies;
  readonly #seal: ManifestSeal;
  readonly #options: RecoveryOptions;

  constructor(metadata: MetadataStore, registry: NodeRegistry, replicas: ReplicaStore, claims: UnreferencedCopies, seal: ManifestSeal, options: RecoveryOptions) {
    this.#metadata = metadata;
    this.#registry = registry;
    this.#replicas = replicas;
    this.#claims = claims;
    this.#seal = seal;
    this.#options = options;
  }

  async run(): Promise<RecoveryReport> {
    const started = performance.now();
    const missing = await this.#waitForNodes();
    const waitedSeconds = (performance.now() - started) / 1000;
    const nodes = this.#registry.readableLinks().map((link) => link.id);
    this.#options.progress(`${nodes.length} node(s) reported${missing.length > 0 ? `; not reported: ${missing.join(', ')}` : ''}`);
    const { newest, manifests, rejected } = await this.#readManifests();
    const { files, deletions } = await this.#apply(newest);
    this.#options.progress(`${manifests} manifest(s) read (${rejected} rejected): ${files} file version(s) and ${deletions} deletion(s) newer than the metadata`);
    const { copies, failedCopies } = await this.#adoptCopies();
    this.#options.progress(`${copies} copies read back intact and recorded${failedCopies > 0 ? `, ${failedCopies} failed` : ''}`);
    const incomplete = missing.length > 0 && !this.#options.allowMissing;
    await this.#metadata.setRecoveryNeeded(incomplete ? `nodes ${missing.join(', ')} did not report to the last recovery` : null);
    return { nodes, missing, manifests, rejected, files, deletions, copies, failedCopies, waitedSeconds, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Until every node the metadata knew at the start has reported its inventory, or the wait is
   * over; says who did not. Knowing none (their enrolments were lost too), it waits it out for
   * them to join again. Nodes that join meanwhile take part either way.
   */
  async #waitForNodes(): Promise<string[]> {
    const deadline = Date.now() + this.#options.waitMs;
    const known = (await this.#metadata.listNodes()).map((node) => node.id);
    let said = '';
    for (;;) {
      const missing = known.filter((id) => !this.#registry.readable(id));
      if ((known.length > 0 && missing.length === 0) || Date.now() >= deadline) return missing;
      const line = `waiting for nodes: ${known.length - missing.length} of ${known.length} known reported`;
      if (line !== said) this.#options.progress((said = line));
      await sleep(200);
    }
  }

  /** Every manifest the nodes list, read and checked; the newest of each name, the highest hash breaking a tie. */
  async #readManifests(): Promise<{ newest: Map<string, Found>; manifests: number; rejected: number }> {
    const holders = new Map<string, string[]>();
    for (const link of this.#registry.readableLinks()) {
      // A node that cannot list its manifests still counts for what the others list and for its copies.
      for (const hash of await link.listManifests().catch(() => [])) holders.set(hash, [...(holders.get(hash) ?? []), link.id]);
    }
    const newest = new Map<string, Found>();
    let manifests = 0;
    let rejected = 0;
    const listed = [...holders];
    for (let i = 0; i < listed.length; i += PAGE) {
      await Promise.all(
        listed.slice(i, i + PAGE).map(async ([hash, nodeIds]) => {
          const bytes = await this.#replicas.read(hash, nodeIds).catch(() => null);
          const manifest = bytes && this.#seal.decode(bytes);
          if (!manifest) {
            rejected++;
            return;
          }
          manifests++;
          const name = manifestName(manifest);
          const known = newest.get(name)?.manifest.version ?? -1;
          if (manifest.version > known || (manifest.version === known && hash > newest.get(name)!.hash)) newest.set(name, { manifest, hash, size: bytes.length });
        }),
      );
    }
    return { newest, manifests, rejected };
  }

  /**
   * Records each name's newest manifest where it is newer than what the metadata has. What that
   * replaces is forgotten, not deleted: copies of it that nodes still hold are then unrecorded, and
   * the gateway collects them after its grace period like any other.
   */
  async #apply(newest: Map<string, Found>): Promise<{ files: number; deletions: number }> {
    const versions = await this.#metadata.versions();
    const replaced: string[] = [];
    const batch: Parameters<MetadataStore['commitFiles']>[0] = [];
    const commitBatch = async (): Promise<void> => {
      replaced.push(...(await this.#metadata.commitFiles(batch.splice(0))).unreferenced);
    };
    let files = 0;
    let deletions = 0;
    for (const { manifest, hash, size } of newest.values()) {
      if ((versions.get(manifestName(manifest)) ?? -1) >= manifest.version) continue;
      const chunk: ChunkRecord = { hash, size, nodeIds: [] };
      if (manifest.type === 'deletion') {
        const removed = await this.#metadata.deleteFile(manifest.name, { version: manifest.version, chunk, deletedAt: manifest.deletedAt });
        replaced.push(...(removed?.unreferenced ?? []));
        deletions++;
      } else {
        batch.push({ file: manifest.file, chunks: chunksOf(manifest.file), manifest: { version: manifest.version, chunk } });
        files++;
        if (batch.length === PAGE) await commitBatch();
      }
    }
    await commitBatch();
    await this.#metadata.forgetUnreferenced(replaced);
    return { files, deletions };
  }

  /** Reads back each copy a node listed of a chunk now referenced but not recorded there, and records those intact; nodes side by side. */
  async #adoptCopies(): Promise<{ copies: number; failedCopies: number }> {
    let copies = 0;
    let failedCopies = 0;
    await Promise.all(
      this.#registry.readableLinks().map(async (link) => {
        const claimed = this.#claims.due(link.id, Infinity);
        for (let i = 0; i < claimed.length; i += PAGE) {
          const recorded = await this.#metadata.getChunks([...(await this.#metadata.referenced(claimed.slice(i, i + PAGE)))]);
          const unrecorded = [...recorded].filter(([, chunk]) => !chunk.nodeIds.includes(link.id)).map(([hash]) => hash);
          const adopted = await this.#replicas.adopt(link.id, unrecorded);
          copies += adopted;
          failedCopies += unrecorded.length - adopted;
        }
      }),
    );
    return { copies, failedCopies };
  }
}

/** A file's chunks as records with no copy yet, each the size it takes on the nodes. */
function chunksOf(file: FileRecord): ChunkRecord[] {
  return file.chunks.map((chunk) => ({ hash: chunk.hash, size: storedSize(chunk), nodeIds: [] }));
}
