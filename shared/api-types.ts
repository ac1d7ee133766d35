import type { NodeKind } from './protocol.ts';

/** The JSON the gateway's HTTP API speaks: the gateway builds these, the client and web app read them. */
export interface FileInfo {
  name: string;
  size: number;
  /** Null for a file composed of parts whose whole digest nobody computed. */
  sha256: string | null;
  chunkSize: number;
  chunks: number;
  replicas: number;
  createdAt: string;
}

export type FileHealth = 'ok' | 'degraded' | 'unavailable';

export interface FileListing extends FileInfo {
  health: FileHealth;
}

/**
 * One page of GET /api/files?limit=&after=&prefix=&delimiter=/, in name order. `next` is the
 * `after` of the next page, absent on the last; with a delimiter, `prefixes` are the folders
 * (names up to and including the next delimiter after the prefix) of this page.
 */
export interface FilePage {
  files: FileListing[];
  next?: string;
  prefixes?: string[];
}

/**
 * A copy of a chunk as the file detail shows it: its node's status, or `suspect` when that node
 * once served wrong bytes for this chunk, so the copy is not trusted.
 */
export type CopyState = NodeStatus | 'suspect';

export interface ChunkDetail {
  index: number;
  hash: string;
  size: number;
  health: FileHealth;
  copies: Array<{ nodeId: string; state: CopyState }>;
  /** Copies short of the file's replica count, counting only those that can be read. */
  missing: number;
}

/** GET /api/chunks?file=<name>: where each chunk of a file lives. */
export interface FileDetail {
  file: FileListing;
  chunks: ChunkDetail[];
  /** When the file cannot be read: the offline nodes holding the only copies of its unreadable chunks. */
  waitingFor: string[];
}

export type NodeStatus = 'online' | 'offline' | 'draining';

/** A node as it is now: what the event stream carries, and the base of what /api/nodes lists. */
export interface NodeView {
  id: string;
  kind: NodeKind;
  status: NodeStatus;
  capacityBytes: number;
  usedBytes: number;
  chunkCount: number;
  cpu: number | null;
  lastSeenAt: string;
  writeBps: number;
  readBps: number;
  /** Why the node takes no new copies until an admin trusts it again (it served wrong bytes); null when trusted. */
  quarantine: string | null;
  /**
   * The answering gateway has a link to the node: reads and writes through it can use the node.
   * With several gateways a node is online while any of them hears it, linked here or not.
   */
  linked: boolean;
}

export interface NodeSafety {
  /** Chunks the gateway records on this node. */
  recordedChunks: number;
  /** Chunks that would have fewer than R good replicas without this node: 0 means safe to remove. */
  atRiskChunks: number;
}

/** A node as /api/nodes lists it: its view and how safe it would be to lose it. */
export interface NodeInfo extends NodeView, NodeSafety {}

export interface RepairStats {
  queued: number;
  active: number;
  done: number;
  /** Jobs that ended in an error since the gateway started or an admin last cleared them. */
  failed: number;
  /** Why the newest failure happened and when; null when `failed` is 0. */
  lastFailure?: { reason: string; at: string } | null;
  removed: number;
  rebalancing: boolean;
}

/**
 * GET /api/stats: bytes the file API read out to clients and took in from them, in total since
 * the gateway started and per `bucketMs` over the last minutes (oldest first, the last one still
 * filling at `now`).
 */
export interface ClusterThroughput {
  bytesRead: number;
  bytesWritten: number;
  bucketMs: number;
  now: string;
  samples: Array<{ at: string; readBytes: number; writtenBytes: number }>;
}

/** Collection on one node stopped at its limit for a grace period, until an admin confirms it may go on. */
export interface CollectionPause {
  nodeId: string;
  /** How much it collected there and how much waits, in words. */
  reason: string;
}

export interface OrphanStats {
  /** Copies on nodes that no file needs, waiting for collection. */
  pending: number;
  collected: number;
  /** Nodes where collection waits for POST /api/collection/confirm; empty while it runs everywhere. */
  paused: CollectionPause[];
}

/** One gateway of the cluster, as GET /api/gateways lists it. */
export interface GatewayInfo {
  id: string;
  /** Where nodes and clients reach it: its --public-url. */
  url: string;
  startedAt: string;
  lastSeenAt: string;
  /** Offline once it stopped, or was not heard for a few seconds. */
  status: 'online' | 'offline';
  /** It holds the repair lease: repair, rebalancing, trimming and collection run there. */
  repairer: boolean;
  /** It is the gateway that answered. */
  self: boolean;
}

export interface ClusterHealth {
  status: 'ok' | 'degraded' | 'unavailable';
  nodesOnline: number;
  nodesTotal: number;
  files: number;
  chunks: number;
  underReplicatedChunks: number;
  unavailableChunks: number;
  replicas: number;
  repair: RepairStats;
  orphans: OrphanStats;
  capacityBytes: number;
  usedBytes: number;
}

/** An invite as /api/invites lists it; its token is shown once, when it is created. */
export interface InviteInfo {
  id: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  /** How many nodes may join with it; null for no limit. */
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  /** Usable now: not revoked, not expired, not used up. */
  active: boolean;
}

export interface CreatedInvite {
  invite: InviteInfo;
  token: string;
  /** The page a browser opens to become a node with this invite. */
  url: string;
}

/** What an API token may do; each role may do everything the ones before it may. */
export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedToken {
  token: TokenInfo;
  /** The bearer token itself, shown only here: the gateway keeps its SHA-256. */
  secret: string;
}

/** An S3 access key: its id is what S3 clients call the access key id. */
export interface S3KeyInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedS3Key {
  key: S3KeyInfo;
  /** The secret access key, shown only here (the gateway keeps it sealed, as SigV4 needs it). */
  secret: string;
}

/** Who the caller is: the token behind its bearer header or its session cookie. */
export interface SessionInfo {
  tokenId: string;
  name: string;
  role: Role;
  via: 'bearer' | 'cookie';
}

/** A dashboard address that logs a browser in once, within `expiresAt`. */
export interface LoginLink {
  url: string;
  expiresAt: string;
}

export type RepairProgress = RepairStats & { underReplicatedChunks: number };

/** What the gateway publishes on /api/events; the SSE event name is the `type`. */
export type ShoalEvent =
  | { type: 'node.joined'; node: NodeView }
  | { type: 'node.left'; node: NodeView }
  | { type: 'node.stats'; node: NodeView }
  | { type: 'node.removed'; nodeId: string }
  | { type: 'file.added'; file: FileInfo }
  | { type: 'file.removed'; name: string }
  | { type: 'replica.lost'; hash: string; nodeId: string; reason: string }
  | ({ type: 'repair.progress' } & RepairProgress)
  | { type: 'orphans.collected'; nodeId: string; count: number }
  | ({ type: 'orphans.paused' } & CollectionPause);

export type ShoalEventType = ShoalEvent['type'];

/** Every event type, so a subscriber can listen to all of them without copying the list. */
export const SHOAL_EVENT_TYPES: readonly ShoalEventType[] = [
  'node.joined',
  'node.left',
  'node.stats',
  'node.removed',
  'file.added',
  'file.removed',
  'replica.lost',
  'repair.progress',
  'orphans.collected',
  'orphans.paused',
];
