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

export interface FileListing {
  name: string;
  size: number;
  sha256: string;
  chunks: number;
  replicas: number;
  createdAt: string;
  health: FileHealth;
}

export interface NodeInfo {
  id: string;
  kind: NodeKind;
  status: 'online' | 'offline' | 'draining';
  capacityBytes: number;
  usedBytes: number;
  chunkCount: number;
  cpu: number | null;
  lastSeenAt: string;
  writeBps: number;
  readBps: number;
  /** Chunks the gateway records on this node. */
  recordedChunks: number;
  /** Chunks that would have fewer than R good replicas without this node: 0 means safe to remove. */
  atRiskChunks: number;
}

export interface RepairStats {
  queued: number;
  active: number;
  done: number;
  failed: number;
  removed: number;
  rebalancing: boolean;
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
  orphans: { pending: number; collected: number };
  capacityBytes: number;
  usedBytes: number;
}
