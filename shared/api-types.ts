import type { NodeKind } from './protocol.ts';

/** The JSON the gateway's HTTP API speaks: the gateway builds these, the client and web app read them. */
export interface FileInfo {
  name: string;
  size: number;
  sha256: string;
  chunkSize: number;
  chunks: number;
  replicas: number;
  createdAt: string;
}

export type FileHealth = 'ok' | 'degraded' | 'unavailable';

export interface FileListing extends FileInfo {
  health: FileHealth;
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
  failed: number;
  removed: number;
  rebalancing: boolean;
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
