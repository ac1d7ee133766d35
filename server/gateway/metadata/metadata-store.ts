import type { InviteInfo, NodeSafety } from '../../../shared/api-types.ts';
import type { ChunkKind } from '../../../shared/chunk-store.ts';
import type { NodeKind } from '../../../shared/protocol.ts';

/**
 * Everything the gateway must not forget: files, the chunks they are made of, which nodes hold
 * which chunk, and the nodes themselves. Async throughout so that a networked database (several
 * gateways on one PostgreSQL) can implement it later; every implementation passes
 * metadata-store.contract.ts.
 */
/**
 * One chunk of a file, in file order. Chunks of one file may differ in size (a file composed of
 * parts uploaded apart), so a byte's chunk is found by the sums of the sizes before it.
 */
export interface FileChunk {
  /** What the nodes store it under and verify it by: the SHA-256 of its stored bytes, the ciphertext when sealed. */
  hash: string;
  /** Its plaintext bytes. */
  size: number;
  /**
   * The keyed hash of its plaintext (files/chunk-cipher.ts) from which, with the cluster's data
   * key, its key and nonces are derived; absent for a chunk stored in plaintext before encryption.
   */
  key?: string;
}

export interface FileRecord {
  name: string;
  size: number;
  /** SHA-256 of the whole file; null for a file composed of parts whose whole digest nobody computed. */
  sha256: string | null;
  /** The largest chunk the file was cut into: what frames from nodes must make room for. */
  chunkSize: number;
  /** In file order; the same chunk may repeat. */
  chunks: FileChunk[];
  /** Replication factor the file was written with. */
  replicas: number;
  createdAt: string;
}

export interface ChunkRecord {
  hash: string;
  size: number;
  nodeIds: string[];
}

/** A chunk as the metadata reads back: a manifest is one that some file or deletion names as its own. */
export interface RecordedChunk extends ChunkRecord {
  kind: ChunkKind;
}

/** The manifest a file version or a deletion is written to the nodes as: its version, and its chunk. */
export interface ManifestRecord {
  version: number;
  chunk: ChunkRecord;
}

export interface DeletionRecord extends ManifestRecord {
  deletedAt: string;
}

export interface NodeRecord {
  id: string;
  kind: NodeKind;
  capacityBytes: number;
  usedBytes: number;
  chunkCount: number;
  cpu: number | null;
  /**
   * SHA-256 of the node's secret token. It keys the HMAC with which the node answers the gateway's
   * challenge on every connection, so neither the token nor anything replayable crosses the wire.
   */
  tokenHash: string;
  createdAt: string;
  lastSeenAt: string;
  draining: boolean;
  /** Why the node takes no new copies until an admin clears it; null when it is trusted. */
  quarantine: string | null;
}

export type NodeSession = Pick<NodeRecord, 'kind' | 'capacityBytes' | 'usedBytes' | 'chunkCount' | 'cpu' | 'lastSeenAt'>;

/** A link that lets browser tabs join the cluster, as the API shows it; only its token's SHA-256 is kept. */
export interface InviteRecord extends Omit<InviteInfo, 'active'> {
  tokenHash: string;
}

/** One page of the file listing: names after `after`, under `prefix`, folders rolled up at `delimiter`. */
export interface FilePageQuery {
  /** Strictly after this name (or folder prefix, with a delimiter): the previous page's `next`. */
  after?: string;
  prefix?: string;
  /** With '/', names with a '/' after the prefix are given once, as their folder: prefix + segment + '/'. */
  delimiter?: '/';
  limit: number;
}

/** A page of file records (file-page.ts pages the stores' names). */
export interface FilePage {
  files: FileRecord[];
  /** The folders met, in order, when listing with a delimiter. */
  prefixes: string[];
  /** Where the next page starts (its `after`); absent on the last page. */
  next?: string;
}

/** Health's figures, counted by the database: files, and the chunks files and deletions reference. */
export interface ReplicationSummary {
  files: number;
  chunks: number;
  /** Chunks with fewer copies than the replica count on the nodes named readable. */
  underReplicated: number;
  /** Chunks with no copy on those nodes. */
  unavailable: number;
}

/** What a node holds of the chunks files and deletions reference, and how many would fall below R without it. */
export type NodeCopies = NodeSafety;

/** Which live chunks (those some file or deletion references) listChunkPage reads. */
export type ChunkSelection = { copiesBelow: number } | { copiesAbove: number } | { node: string } | { all: true };

/**
 * Where a page of chunks ended, passed back as `after`: pages of a selection by copies run in
 * (copies, hash) order, the others in hash order (copies is then 0).
 */
export interface ChunkCursor {
  copies: number;
  hash: string;
}

export interface ChunkPageQuery {
  select: ChunkSelection;
  after?: ChunkCursor;
  limit: number;
}

export interface ChunkPage {
  chunks: RecordedChunk[];
  /** Absent once the selection is read to its end. */
  next?: ChunkCursor;
}

export interface MetadataStore {
  /**
   * Records a file, its manifest and where each of its chunks lives, in one transaction, replacing
   * any file or deletion of that name. Returns the hashes that no file or deletion references any
   * more (from what was replaced). A file without a manifest, as those stored before manifests
   * existed, has version 0 and cannot be rebuilt from the nodes.
   */
  /** Throws StaleVersionError (name-version.ts) when `manifest`'s version is not above the name's stored one. */
  commitFile(file: FileRecord, chunks: ChunkRecord[], manifest?: ManifestRecord): Promise<{ unreferenced: string[] }>;
  /** commitFile for many files, in one transaction: a recovery records thousands at once. */
  commitFiles(files: Array<{ file: FileRecord; chunks: ChunkRecord[]; manifest?: ManifestRecord }>): Promise<{ unreferenced: string[] }>;
  getFile(name: string): Promise<FileRecord | undefined>;
  listFiles(): Promise<FileRecord[]>;
  /** A page of the listing, in byte order of names (file-page.ts); each read is a range of the index on names. */
  listFilePage(query: FilePageQuery): Promise<FilePage>;
  /**
   * The largest chunk size any stored file was written with, 0 without files: its chunks must stay
   * readable, so frames from nodes may carry chunks this large whatever the current --chunk-size.
   */
  largestChunkSize(): Promise<number>;
  /**
   * Removes a file and returns it with the hashes that no file or deletion references any more;
   * undefined when there is no such file. With `deletion`, the deletion is recorded in its place,
   * replacing an older one, even when there was no file: the nodes then keep its manifest too.
   */
  deleteFile(name: string, deletion?: DeletionRecord): Promise<{ file: FileRecord; unreferenced: string[] } | undefined>;
  /** The version of every name with a file or a deletion recorded: what recovery compares manifests with. */
  versions(): Promise<Map<string, number>>;
  /** The version of `name`'s file or deletion, 0 when there is none: a new version of it goes above. */
  nameVersion(name: string): Promise<number>;
  /** The largest version of any file or deletion recorded, 0 when there is none. */
  largestVersion(): Promise<number>;
  /** Files stored before manifests existed, which have none yet. */
  filesWithoutManifest(): Promise<FileRecord[]>;
  /** Forgets the deletions recorded before `before`; returns the hashes of their manifests that nothing references any more. */
  forgetDeletions(before: string): Promise<string[]>;

  /** Chunk records for the given hashes; unknown hashes are absent from the map. */
  getChunks(hashes: string[]): Promise<Map<string, RecordedChunk>>;
  /** The subset of `hashes` that some file or deletion references now, as a chunk or as its manifest. */
  referenced(hashes: string[]): Promise<Set<string>>;
  /** Every chunk some file or deletion references, with its replicas. */
  listChunks(): Promise<RecordedChunk[]>;
  /** A page of the live chunks `select` names, each read a range of an index: what a sweep reads instead of every chunk. */
  listChunkPage(query: ChunkPageQuery): Promise<ChunkPage>;
  /** The nodes recorded as holding copies of chunks some file or deletion references, from per-node counts. */
  holders(): Promise<string[]>;
  /**
   * Counted in the database, not by reading every chunk: `readable` are the nodes whose copies can
   * be read now. From per-node counts when at most one holder is unreadable or at most one readable;
   * otherwise the unreadable holders' copies are read.
   */
  replicationSummary(readable: string[], replicas: number): Promise<ReplicationSummary>;
  /**
   * For every node holding copies of referenced chunks: how many, and how many of those chunks
   * would have fewer than `replicas` copies on `writable` nodes other than it. From per-node counts,
   * and, when some holder is not writable, the chunks with more than `replicas` copies.
   */
  copiesPerNode(writable: string[], replicas: number): Promise<Map<string, NodeCopies>>;
  /** Hashes recorded as held by a node. */
  chunksOnNode(nodeId: string): Promise<string[]>;
  addReplica(hash: string, nodeId: string): Promise<void>;
  /** addReplica for many copies, in one transaction. */
  addReplicas(copies: Array<{ hash: string; nodeId: string }>): Promise<void>;
  removeReplica(hash: string, nodeId: string): Promise<void>;
  /** Drops chunk and replica rows for hashes that, at the time of the call, no file references. Returns those dropped. */
  forgetUnreferenced(hashes: string[]): Promise<string[]>;

  /**
   * What a node's inventory may change: the node's rows for `missing`, copies recorded on it that
   * it no longer reports, go, in one transaction, so a node returning with a large store does not
   * stall the gateway with a write per chunk. An inventory never adds a row: a node's word is no
   * copy, and a copy counts toward R only once the gateway wrote it there or read it back intact.
   */
  reconcileNode(nodeId: string, missing: string[]): Promise<void>;

  upsertNode(node: NodeRecord): Promise<void>;
  /**
   * Sets one admin flag of an enrolled node and no other column: another gateway may be setting
   * the other flag at the same moment, and a whole-record write would undo it. False when no such node.
   */
  setDraining(id: string, draining: boolean): Promise<boolean>;
  setQuarantine(id: string, reason: string | null): Promise<boolean>;
  /**
   * Updates what a node's session reports of itself, only if the node is still enrolled: a late
   * session must not bring back a removed node or undo an admin's drain or quarantine.
   */
  recordSession(id: string, session: NodeSession): Promise<boolean>;
  /** Records a node that has never been seen, and only then: false when the id is taken. */
  enrollNode(node: NodeRecord): Promise<boolean>;
  /**
   * Records a node joining with an invite, in one transaction: only while the invite is neither
   * revoked, expired (at `now`) nor used up, and the id is free. Says which check failed.
   */
  enrollWithInvite(tokenHash: string, node: NodeRecord, now: string): Promise<'enrolled' | 'invalid' | 'taken'>;
  getNode(id: string): Promise<NodeRecord | undefined>;
  listNodes(): Promise<NodeRecord[]>;
  /** Forgets a node and every replica it was recorded as holding. */
  removeNode(id: string): Promise<void>;

  /**
   * Why no gateway may serve this metadata before `shoal recover` has run on it (it replaced a lost
   * one, or it is a backup), or null.
   */
  recoveryNeeded(): Promise<string | null>;
  setRecoveryNeeded(reason: string | null): Promise<void>;

  createInvite(invite: InviteRecord): Promise<void>;
  listInvites(): Promise<InviteRecord[]>;
  /** Marks an invite revoked at `at`; false when there is no such invite. */
  revokeInvite(id: string, at: string): Promise<boolean>;

  close(): Promise<void>;
}
