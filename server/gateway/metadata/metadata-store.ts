import type { NodeKind } from '../../../shared/protocol.ts';

/**
 * Everything the gateway must not forget: files, the chunks they are made of, which nodes hold
 * which chunk, and the nodes themselves. Async throughout so that a networked database (several
 * gateways on one PostgreSQL) can implement it later; every implementation passes
 * metadata-store.contract.ts.
 */
export interface FileRecord {
  name: string;
  size: number;
  sha256: string;
  chunkSize: number;
  /** Chunk hashes in file order; the same hash may repeat. */
  chunks: string[];
  /** Replication factor the file was written with. */
  replicas: number;
  createdAt: string;
}

export interface ChunkRecord {
  hash: string;
  size: number;
  nodeIds: string[];
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

/** A link that lets browser tabs join the cluster; only its token's SHA-256 is kept. */
export interface InviteRecord {
  id: string;
  tokenHash: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  /** How many nodes may join with it; null for no limit. */
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}

export interface MetadataStore {
  /**
   * Records a file and where each of its chunks lives, in one transaction, replacing any file of
   * that name. Returns the hashes that no file references any more (from the replaced version).
   */
  commitFile(file: FileRecord, chunks: ChunkRecord[]): Promise<{ unreferenced: string[] }>;
  getFile(name: string): Promise<FileRecord | undefined>;
  listFiles(): Promise<FileRecord[]>;
  /**
   * The largest chunk size any stored file was written with, 0 without files: its chunks must stay
   * readable, so frames from nodes may carry chunks this large whatever the current --chunk-size.
   */
  largestChunkSize(): Promise<number>;
  /** Removes a file; returns it and the hashes that no file references any more. */
  deleteFile(name: string): Promise<{ file: FileRecord; unreferenced: string[] } | undefined>;

  /** Chunk records for the given hashes; unknown hashes are absent from the map. */
  getChunks(hashes: string[]): Promise<Map<string, ChunkRecord>>;
  /** The subset of `hashes` that some file references now. */
  referenced(hashes: string[]): Promise<Set<string>>;
  /** Every chunk some file references, with its replicas. */
  listChunks(): Promise<ChunkRecord[]>;
  /** Hashes recorded as held by a node. */
  chunksOnNode(nodeId: string): Promise<string[]>;
  addReplica(hash: string, nodeId: string): Promise<void>;
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

  createInvite(invite: InviteRecord): Promise<void>;
  listInvites(): Promise<InviteRecord[]>;
  /** Marks an invite revoked at `at`; false when there is no such invite. */
  revokeInvite(id: string, at: string): Promise<boolean>;

  close(): Promise<void>;
}
