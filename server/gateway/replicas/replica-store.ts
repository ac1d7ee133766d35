import type { ChunkKind } from '../../../shared/chunk-store.ts';
import { ShoalError, toShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { ChunkRecord, MetadataStore, RecordedChunk } from '../metadata/metadata-store.ts';
import type { NodeLink } from '../nodes/node-link.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ChunkLocks } from './chunk-locks.ts';
import type { NodeTrust } from './node-trust.ts';
import { ReadLoad } from './read-load.ts';
import { diskFirst, rankTargets } from './placement.ts';
import type { UnreferencedCopies } from './unreferenced-copies.ts';
import type { UploadCopies } from './uploads-in-flight.ts';

/** How long a read may go unanswered before the next replica is asked too. */
const HEDGE_AFTER_MS = 1500;

/** How long a release waits before trying again chunks another gateway pins. */
const RELEASE_RETRY_MS = 30_000;

export interface ReadOptions {
  /** Only these bytes of the stored chunk, which the node cannot verify: `open` must. */
  span?: { offset: number; length: number };
  /**
   * Verifies what a node returned and turns it into what the reader wants, throwing CHUNK_CORRUPT
   * for bytes that are not the chunk's (a sealed chunk's tags). Without it the whole chunk must
   * hash to its hash.
   */
  open?: (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  /**
   * `span` is the whole stored chunk. Asked for as a span, a node sends it without hashing it
   * (`open` checks every byte anyway); bytes that do not open are asked for again whole, which a
   * node hashes: an honest node then drops a rotten copy and says so itself. A node is blamed for
   * wrong bytes when those do not open either, or when they do: then the span was a lie.
   */
  whole?: boolean;
}

/**
 * The copies of chunks on nodes: the only code that puts, gets or deletes one, always under the
 * rule of ChunkLocks. Writes go to the nodes its partition lists (placement.ts) and count once the node
 * acknowledged a durable, hash-checked write; reads are verified; a node that cannot produce a
 * recorded copy loses its record, and the loss is published for healing to act on. A copy is
 * recorded only here, when written: what nodes say they hold adds none.
 */
export class ReplicaStore {
  readonly #registry: NodeRegistry;
  readonly #metadata: MetadataStore;
  readonly #events: EventBus;
  readonly #locks: ChunkLocks;
  /**
   * Checked again as each delete leaves for a node, not only before it waits for the link's
   * window: a gateway out of touch meanwhile may have had its claims revoked, and another gateway
   * may have written fresh copies of the chunk, which this delete would then take.
   */
  readonly #claimsStand = (): void => this.#locks.assertClaims();
  readonly #unreferenced: UnreferencedCopies;
  /** Chunks whose release waits for their last pin. */
  readonly #heldBack = new Set<string>();
  readonly #trust: NodeTrust;
  readonly #load = new ReadLoad();

  constructor(registry: NodeRegistry, metadata: MetadataStore, events: EventBus, locks: ChunkLocks, unreferenced: UnreferencedCopies, trust: NodeTrust) {
    this.#registry = registry;
    this.#metadata = metadata;
    this.#events = events;
    this.#locks = locks;
    this.#unreferenced = unreferenced;
    this.#trust = trust;
  }

  async current(hash: string): Promise<RecordedChunk | undefined> {
    return (await this.#metadata.getChunks([hash])).get(hash);
  }

  /**
   * For an upload: pins the chunk until `unpin`, and under its lock makes R good nodes hold it,
   * counting the recorded holders. Resolves with the links written, the only new facts for the
   * upload's commit: the existing holders are recorded already, and a record removed meanwhile
   * (a read found the copy rotten) must not be put back. A file's manifest is stored this way too,
   * as `kind` manifest.
   */
  async storeForUpload(hash: string, data: Uint8Array, replicas: number, kind: ChunkKind = 'chunk'): Promise<NodeLink[]> {
    this.#locks.pin(hash);
    return this.#locks.locked([hash], async () => {
      const written: NodeLink[] = [];
      try {
        await this.#locks.share(hash);
        return await this.#ensure(hash, data, (await this.current(hash))?.nodeIds ?? [], replicas, kind, written);
      } catch (err) {
        await this.#undoPartialPlacement(hash, written);
        throw err;
      }
    });
  }

  /**
   * Ends a pin. A release of the chunk that its pin held back (a version replaced or deleted while
   * it was being read or stored again) runs now, once nothing pins it.
   */
  unpin(hash: string): void {
    if (!this.#locks.unpin(hash) || !this.#heldBack.delete(hash)) return;
    this.releaseUnreferenced([hash]).catch(() => this.releaseFailedUpload([hash]));
  }

  /** For a download: keeps the copies of `hashes` from removal, each until it is unpinned. */
  pinForReading(hashes: Iterable<string>): void {
    for (const hash of hashes) this.#locks.pin(hash);
  }

  /** For repair: brings a chunk some file needs back to R good copies, recording each new one. */
  async restore(hash: string, data: Uint8Array, replicas: number): Promise<number> {
    return this.#locks.locked([hash], async () => {
      const chunk = await this.current(hash);
      if (!chunk) return 0;
      const written = await this.#ensure(hash, data, chunk.nodeIds, replicas, chunk.kind);
      for (const link of written) await this.#metadata.addReplica(hash, link.id);
      return written.length;
    });
  }

  /** For rebalancing: copies a chunk to a node placement now prefers, recording it. */
  async copyTo(link: NodeLink, hash: string, data: Uint8Array): Promise<boolean> {
    return this.#locks.locked([hash], async () => {
      const chunk = await this.current(hash);
      if (!chunk || chunk.nodeIds.includes(link.id) || !link.writable || this.#trust.isSuspect(link.id, hash)) return false;
      await link.put(hash, data, chunk.kind);
      await this.#metadata.addReplica(hash, link.id);
      return true;
    });
  }

  /**
   * For recovery: records the copies of `hashes` a node lists but the metadata does not, those the
   * gateway has read back from that node intact, in one transaction. Says how many.
   */
  async adopt(nodeId: string, hashes: string[]): Promise<number> {
    const intact = await Promise.all(hashes.map((hash) => this.read(hash, [nodeId]).then(() => true, () => false)));
    const adopted = hashes.filter((_, i) => intact[i]);
    await this.#locks.locked(adopted, () => this.#metadata.addReplicas(adopted.map((hash) => ({ hash, nodeId }))));
    return adopted.length;
  }

  /**
   * Reads one chunk from whichever recorded holder can produce it intact. The holder expected to
   * answer soonest (ReadLoad) is asked first: a download with several chunks in flight spreads
   * them over the replicas, and a slow node gets fewer. When one fails, lacks the chunk or returns bytes that do not verify (#readFrom), the
   * next is tried at once. One that is merely slow (a tab whose page is busy still answers pings)
   * gets a head start, then the next is asked as well and the first good answer wins.
   */
  async read(hash: string, nodeIds: string[], options: ReadOptions = {}): Promise<Uint8Array> {
    const online = this.#load.order(nodeIds.filter((id) => this.#registry.readable(id)));
    const reasons: string[] = [];
    const attempt = async (nodeId: string): Promise<Uint8Array | null> => {
      const end = this.#load.begin(nodeId);
      try {
        const data = await this.#readFrom(hash, nodeId, options);
        end(true);
        return data;
      } catch (err) {
        end(false);
        reasons.push(`${nodeId}: ${toShoalError(err).code}`);
        return null;
      }
    };
    const running = new Set<Promise<Uint8Array | null>>();
    let next = 0;
    while (next < online.length || running.size > 0) {
      if (next < online.length) {
        const tried = attempt(online[next++]!);
        running.add(tried);
        void tried.then(() => running.delete(tried));
      }
      let hedge: ReturnType<typeof setTimeout> | undefined;
      const waits: Array<Promise<Uint8Array | null | 'hedge'>> = [...running];
      if (next < online.length) waits.push(new Promise((resolve) => (hedge = setTimeout(() => resolve('hedge'), HEDGE_AFTER_MS))));
      const first = await Promise.race(waits);
      clearTimeout(hedge);
      if (first instanceof Uint8Array) return first;
      // A failed attempt or a slow one: loop round to ask the next holder, or wait for the rest.
    }
    const offline = nodeIds.length - online.length;
    throw new ShoalError(
      'CHUNK_UNAVAILABLE',
      `no replica of chunk ${hash.slice(0, 12)} could be read (${[...reasons, offline ? `${offline} replica(s) offline` : ''].filter(Boolean).join(', ') || 'no replicas recorded'})`,
    );
  }

  /**
   * One node's copy, verified. A copy that is missing or wrong loses its record; wrong bytes also
   * make the node suspect (NodeTrust), where an error it reports about its own copy does not.
   */
  async #readFrom(hash: string, nodeId: string, { span, open, whole }: ReadOptions = {}): Promise<Uint8Array> {
    try {
      const link = this.#registry.link(nodeId);
      if (!link) throw new ShoalError('NODE_OFFLINE', `node ${nodeId} went offline`);
      const data = await link.get(hash, span);
      let opened = open ? await openOrNull(open, data) : sha256Hex(data) === hash ? data : null;
      if (!opened && open && span && whole) {
        opened = await openOrNull(open, await link.get(hash));
        // Its copy is sound, so the span it sent was not: a node lying only about spans would
        // otherwise double every read of its chunks and never be quarantined.
        if (opened) await this.#trust.servedWrongBytes(nodeId, hash);
      }
      if (opened) return opened;
      await this.#trust.servedWrongBytes(nodeId, hash);
      throw new ShoalError('CHUNK_CORRUPT', `node ${nodeId} returned bytes that do not match ${hash.slice(0, 12)}`);
    } catch (err) {
      const e = toShoalError(err);
      if (e.code === 'CHUNK_CORRUPT' || e.code === 'CHUNK_NOT_FOUND') await this.lost(hash, nodeId, e.code).catch(() => {});
      throw e;
    }
  }

  /** A node could not produce a copy it was recorded as holding: forget it and say so. */
  async lost(hash: string, nodeId: string, reason: string): Promise<void> {
    await this.#metadata.removeReplica(hash, nodeId);
    this.#events.publish({ type: 'replica.lost', hash, nodeId, reason });
  }

  /**
   * Removes the copies `choose` picks from the chunk's fresh record, unless an upload has the
   * chunk pinned, and only once every copy it keeps that counts toward R has been read back and
   * verified: a record is a claim that a disk may have broken since. A kept copy that fails loses
   * its record and nothing is removed; the loss brings repair round again. The record goes first:
   * a delete that times out after it happened must not leave a row claiming a copy that is gone;
   * one that really failed leaves an unrecorded copy, which the node's next inventory reports for
   * collection.
   */
  async trim(hash: string, choose: (chunk: ChunkRecord) => NodeLink[]): Promise<{ removed: number; failed: number }> {
    return this.#locks.removing([hash], async (unpinned) => {
      const result = { removed: 0, failed: 0 };
      const chunk = unpinned.length > 0 ? await this.current(hash) : undefined;
      if (!chunk) return result;
      const surplus = choose(chunk);
      if (surplus.length === 0) return result;
      const kept = chunk.nodeIds.filter((id) => this.#registry.writable(id) && !surplus.some((link) => link.id === id));
      const checks = await Promise.allSettled(kept.map((id) => this.#readFrom(hash, id)));
      if (checks.some((check) => check.status === 'rejected')) return result;
      this.#locks.assertClaims();
      for (const link of surplus) {
        await this.#metadata.removeReplica(hash, link.id);
        try {
          await link.delete([hash], this.#claimsStand);
          result.removed++;
        } catch {
          result.failed++;
        }
      }
      return result;
    }, true);
  }

  /**
   * Deletes chunks that no file references any more from every node recorded as holding them, and
   * forgets them. A node that fails keeps its copy until collection removes it; one that is offline
   * reports the copy, now recorded nowhere, in its inventory when it is back. Chunks another
   * gateway pins are tried again later (their release there cannot call back here). `leased`:
   * for background work, which the repair lease must allow.
   */
  async releaseUnreferenced(hashes: string[], leased = false): Promise<void> {
    await this.#locks.removing(hashes, async (unpinned) => {
      const released = new Set(unpinned);
      const elsewhere: string[] = [];
      for (const hash of hashes) {
        if (released.has(hash)) continue;
        if (this.#locks.isPinned(hash)) this.#heldBack.add(hash);
        else elsewhere.push(hash);
      }
      // Also when a lease passed meanwhile: the chunks are nobody's, and a release is safe on any gateway.
      if (elsewhere.length > 0) setTimeout(() => void this.releaseUnreferenced(elsewhere).catch(() => {}), RELEASE_RETRY_MS).unref();
      if (unpinned.length === 0) return;
      const chunks = await this.#metadata.getChunks(unpinned);
      const forgotten = await this.#metadata.forgetUnreferenced(unpinned);
      const byNode = new Map<string, string[]>();
      for (const hash of forgotten) {
        for (const nodeId of chunks.get(hash)?.nodeIds ?? []) byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), hash]);
      }
      this.#locks.assertClaims();
      await Promise.all(
        [...byNode].map(async ([nodeId, nodeHashes]) => {
          const link = this.#registry.link(nodeId);
          // The metadata has forgotten these chunks, so only collection can still remove them.
          await link?.delete(nodeHashes, this.#claimsStand).catch(() => this.#unreferenced.note(nodeId, nodeHashes));
        }),
      );
    }, leased);
  }

  /** An upload failed after storing some chunks: any node that can be read may hold them. */
  releaseFailedUpload(hashes: string[]): void {
    for (const link of this.#registry.readableLinks()) this.#unreferenced.note(link.id, hashes);
  }

  /**
   * An upload failed, and has unpinned its chunks: deletes now, rather than after the grace
   * period, the copies it wrote that nothing else may need, so a failed upload does not keep the
   * cluster full. Under the chunks' locks it skips chunks pinned by another upload or a download,
   * chunks some file references (identical content elsewhere), and copies the metadata records.
   * What it cannot delete (a node that failed or left, a put that timed out and may yet land)
   * waits for collection as before.
   */
  async discardUpload(copies: UploadCopies, hashes: string[]): Promise<void> {
    const written = new Map(copies.links());
    const deleted = new Set<string>();
    await this.#locks.removing(written.keys(), async (unpinned) => {
      const referenced = await this.#metadata.referenced(unpinned);
      const free = unpinned.filter((hash) => !referenced.has(hash));
      const recorded = await this.#metadata.getChunks(free);
      const byLink = new Map<NodeLink, string[]>();
      for (const hash of free) {
        for (const [id, link] of written.get(hash)!) {
          if (this.#registry.link(id) !== link || recorded.get(hash)?.nodeIds.includes(id)) continue;
          byLink.set(link, [...(byLink.get(link) ?? []), hash]);
        }
      }
      this.#locks.assertClaims();
      await Promise.all(
        [...byLink].map(async ([link, linkHashes]) => {
          await link.delete(linkHashes, this.#claimsStand).then(() => linkHashes.forEach((hash) => deleted.add(`${link.id}:${hash}`)), () => {});
        }),
      );
    });
    for (const link of this.#registry.readableLinks()) {
      this.#unreferenced.note(
        link.id,
        hashes.filter((hash) => !deleted.has(`${link.id}:${hash}`)),
      );
    }
  }

  /**
   * Deletes from one node the copies among `hashes` that no upload has pinned and that are not
   * needed there: those of chunks no file references, and unrecorded ones of chunks that have
   * `replicas` recorded copies on writable nodes besides. Says which it deleted, and which to ask
   * about again: unrecorded copies of chunks still short of such copies elsewhere.
   */
  async collect(nodeId: string, hashes: string[], replicas: number): Promise<{ deleted: string[]; waiting: string[] }> {
    const link = this.#registry.link(nodeId);
    if (!link) throw new ShoalError('NODE_OFFLINE', `node ${nodeId} is offline`);
    return this.#locks.removing(hashes, async (unpinned) => {
      const referenced = await this.#metadata.referenced(unpinned);
      const chunks = await this.#metadata.getChunks(unpinned.filter((hash) => referenced.has(hash)));
      const deleted: string[] = [];
      const waiting: string[] = [];
      for (const hash of unpinned) {
        const holders = chunks.get(hash)?.nodeIds ?? [];
        if (holders.includes(nodeId)) continue;
        if (!referenced.has(hash)) {
          deleted.push(hash);
          continue;
        }
        // A copy of a chunk some file needs goes only once R recorded copies elsewhere have been
        // read back intact, as trim checks what it keeps: a recorded copy may be silently gone.
        const good = holders.filter((id) => this.#registry.writable(id));
        const checks = good.length >= replicas ? await Promise.allSettled(good.map((id) => this.#readFrom(hash, id))) : [];
        if (checks.length > 0 && checks.every((check) => check.status === 'fulfilled')) deleted.push(hash);
        else waiting.push(hash);
      }
      await this.#metadata.forgetUnreferenced(deleted.filter((hash) => !referenced.has(hash)));
      this.#locks.assertClaims();
      await link.delete(deleted, this.#claimsStand);
      return { deleted, waiting };
    }, true);
  }

  /** Forgets the deletions recorded before `before` and deletes their manifests from the nodes. */
  async releaseDeletions(before: string): Promise<void> {
    await this.releaseUnreferenced(await this.#metadata.forgetDeletions(before), true);
  }

  /**
   * An upload's chunk reached fewer than R nodes: the copies it did write would otherwise hold
   * their space until collection. They go now, under the chunk's lock, unless another upload also
   * pins the chunk (its own acknowledged copy may be the same file on the same node), a file
   * references it (the node may have held an unrecorded copy before, the same bytes, which
   * collection keeps while the chunk is short of R) or the metadata records the node as a holder
   * meanwhile.
   */
  async #undoPartialPlacement(hash: string, written: NodeLink[]): Promise<void> {
    if (written.length === 0) return;
    // Another gateway's upload may count this very copy: only collection, which claims the chunk, may tell.
    const shared = this.#locks.shared || this.#locks.pinCount(hash) > 1 || (await this.#metadata.referenced([hash])).has(hash);
    const recorded = shared ? null : ((await this.current(hash))?.nodeIds ?? []);
    for (const link of written) {
      if (recorded === null || recorded.includes(link.id) || this.#registry.link(link.id) !== link) {
        this.#unreferenced.note(link.id, [hash]);
        continue;
      }
      await link.delete([hash]).catch(() => this.#unreferenced.note(link.id, [hash]));
    }
  }

  /** Puts the chunk on good nodes until `replicas` of them hold it, pushing each it writes onto `written`; the caller holds its lock. */
  async #ensure(hash: string, data: Uint8Array, holders: string[], replicas: number, kind: ChunkKind, written: NodeLink[] = []): Promise<NodeLink[]> {
    const have = new Set(holders.filter((id) => this.#registry.writable(id)));
    if (have.size >= replicas) return written;
    const failed = new Set<string>();
    const candidates = (): NodeLink[] => {
      const holdsDisk = [...have].some((id) => this.#registry.link(id)?.kind === 'disk');
      const skip = (link: NodeLink) => have.has(link.id) || failed.has(link.id) || this.#trust.isSuspect(link.id, hash);
      return diskFirst(rankTargets(hash, data.length, this.#registry.writableLinks(), replicas, { skip, disk: !holdsDisk }), holdsDisk);
    };
    const failures: string[] = [];
    let ranked = candidates();
    while (have.size < replicas && ranked.length > 0) {
      const batch = ranked.splice(0, replicas - have.size);
      const results = await Promise.allSettled(batch.map((link) => link.put(hash, data, kind)));
      results.forEach((result, i) => {
        const link = batch[i]!;
        if (result.status === 'fulfilled') {
          have.add(link.id);
          written.push(link);
        } else {
          failed.add(link.id);
          failures.push(`${link.id}: ${toShoalError(result.reason).code}`);
        }
      });
      // The partition's list ran out of spares: its rank goes on past them, without the nodes tried.
      if (ranked.length === 0 && have.size < replicas) ranked = candidates();
    }
    if (have.size < replicas) {
      const detail = failures.length > 0 ? ` (${failures.join(', ')})` : '';
      throw new ShoalError('INSUFFICIENT_NODES', `could place only ${have.size} of ${replicas} replicas of chunk ${hash.slice(0, 12)}${detail}`);
    }
    return written;
  }
}

/** What `open` makes of `data`, or null when they are not the chunk's bytes. */
async function openOrNull(open: NonNullable<ReadOptions['open']>, data: Uint8Array): Promise<Uint8Array | null> {
  try {
    return await open(data);
  } catch (err) {
    if (toShoalError(err).code === 'CHUNK_CORRUPT') return null;
    throw err;
  }
}
