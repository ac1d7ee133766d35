import { join } from 'node:path';
import { nodeVerifier } from '../../shared/node-proof.ts';
import { SqliteMetadataStore } from '../gateway/metadata/sqlite-metadata-store.ts';
import type { NodeConfig } from './node-config.ts';

/**
 * Enrols a disk node in the metadata of the gateway that shares this data directory, so its id
 * is taken from the moment it is created: no one can join under it before the node first starts.
 * Returns false when the id was enrolled already, by this node or another.
 */
export async function enrolLocally(dataDir: string, node: NodeConfig): Promise<boolean> {
  const metadata = SqliteMetadataStore.open(join(dataDir, 'metadata.db'));
  try {
    return await metadata.enrollNode({
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
    });
  } finally {
    await metadata.close();
  }
}
