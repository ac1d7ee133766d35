import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { NodeAgent, type SocketConstructor } from '../../shared/node-agent.ts';
import { DiskChunkStore } from './disk-chunk-store.ts';

export interface DiskNodeOptions {
  id: string;
  token: string;
  /** For a node the cluster has not enrolled: the join secret or an invite. */
  join?: string;
  gatewayUrl: string;
  dir: string;
  capacityBytes: number;
  cpu?: number;
  scrubIntervalMs?: number;
  scrubBytesPerSecond?: number;
}

export interface DiskNode {
  agent: NodeAgent;
  stop(): Promise<void>;
}

/** Where a disk node keeps the id of the cluster its chunks belong to, beside them. */
const CLUSTER_FILE = 'cluster-id';

/** A storage node on this machine's disk: the shared node agent over a DiskChunkStore. */
export async function startDiskNode(options: DiskNodeOptions): Promise<DiskNode> {
  const store = await DiskChunkStore.open(options.dir, options.capacityBytes);
  const clusterFile = join(options.dir, CLUSTER_FILE);
  const clusterId = (await readFile(clusterFile, 'utf8').catch(() => '')).trim() || undefined;
  const agent = new NodeAgent({
    gatewayUrl: options.gatewayUrl,
    nodeId: options.id,
    token: options.token,
    join: options.join,
    clusterId,
    kind: 'disk',
    cpu: options.cpu,
    store,
    WebSocket: WebSocket as unknown as SocketConstructor,
    binaryType: 'nodebuffer',
    scrubIntervalMs: options.scrubIntervalMs,
    scrubBytesPerSecond: options.scrubBytesPerSecond,
  });
  agent.on('cluster', ({ clusterId: joined }) => void writeFile(clusterFile, `${joined}\n`, { mode: 0o600 }));
  agent.start();
  return {
    agent,
    async stop() {
      agent.stop();
      await store.close?.();
    },
  };
}
