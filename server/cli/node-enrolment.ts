import { nodeVerifier } from '../../shared/node-proof.ts';
import type { NodeRecord } from '../gateway/metadata/metadata-store.ts';
import { openMetadata } from '../gateway/open-metadata.ts';
import type { NodeConfig } from './node-config.ts';

/**
 * Enrols a disk node in the metadata of the gateway that shares this data directory, so its id
 * is taken from the moment it is created: no one can join under it before the node first starts.
 * Returns false when the id was enrolled already, by this node or another.
 */
export async function enrolLocally(dataDir: string, node: NodeConfig): Promise<boolean> {
  // `shoal node create` has no --metadata of its own: the gateway's PostgreSQL comes from the environment.
  const metadata = await openMetadata(dataDir, false, process.env.SHOAL_METADATA || undefined);
  try {
    return await metadata.enrollNode(await localNodeRecord(node));
  } finally {
    await metadata.close();
  }
}

/** The enrolment of a node this machine runs, as its entry in DATA/nodes.json describes it. */
export async function localNodeRecord(node: NodeConfig): Promise<NodeRecord> {
  return {
    id: node.id,
    kind: 'disk',
    capacityBytes: node.capacityBytes,
    usedBytes: 0,
    chunkCount: 0,
    cpu: node.cpu,
    tokenHash: await nodeVerifier(node.token),
    createdAt: node.createdAt,
    lastSeenAt: node.createdAt,
    draining: false,
    quarantine: null,
  };
}
