import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../shared/errors.ts';
import { MAX_CHUNK_BYTES } from '../../shared/protocol.ts';
import { BrowserOrigins } from './browser-origin.ts';
import { CLUSTER_ID_FILE, loadClusterIdentity } from './cluster-identity.ts';
import { gatewayConfig, type GatewayConfig } from './config.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { MetadataRecovery, type RecoveryOptions, type RecoveryReport } from './healing/metadata-recovery.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX, ManifestSeal } from './metadata/manifest.ts';
import { sealedSize } from './metadata/sealed-size.ts';
import type { NodeRecord } from './metadata/metadata-store.ts';
import { METADATA_FILE, openMetadata } from './open-metadata.ts';
import { UnreferencedCopies } from './replicas/unreferenced-copies.ts';
import { loadSecret } from './secret-file.ts';
import { connectNodes, serveGateway } from './start-gateway.ts';
import { checkCluster } from './cluster/cluster-binding.ts';
import { openClusterStores } from './cluster/open-cluster-stores.ts';
import { sharedSecrets } from './shared-secrets.ts';

/** What one recovery takes of a node's list of copies the metadata lacks; the rest waits for the next run. */
const CLAIMS_PER_NODE = 1_000_000;

export interface RecoverOptions extends RecoveryOptions {
  /** A backup (`shoal backup`) to put in place of the metadata first. */
  from?: string;
  /** Nodes of this machine to enrol first, from DATA/nodes.json: an enrolment lost with the metadata is not a stranger. */
  enrol: NodeRecord[];
  /** Called once nodes can connect, with the URL they reach. */
  listening?: (url: string) => void;
}

/**
 * The second composition root: the gateway in recovery mode. It holds the data directory like a
 * gateway, listens where nodes look for one and lets them in as usual, but serves no files and
 * collects, trims and repairs nothing: it rebuilds the metadata from what the nodes report, then
 * stops. The cluster's id and manifest key must be there: without the key no manifest can be told
 * from a forgery, and without the id the nodes would be another cluster's.
 */
export async function recoverMetadata(overrides: Partial<GatewayConfig>, options: RecoverOptions): Promise<RecoveryReport> {
  const config = gatewayConfig(overrides);
  for (const file of [CLUSTER_ID_FILE, MANIFEST_KEY_FILE]) {
    if (!existsSync(join(config.dataDir, file))) {
      throw new ShoalError('CONFLICT', `${join(config.dataDir, file)} is missing: put back the copy you keep of it (README, "Operations")`);
    }
  }
  const lock = DataDirLock.acquire(config.dataDir);
  try {
    if (options.from !== undefined && config.metadataUrl !== undefined) {
      throw new ShoalError('BAD_REQUEST', '--from puts back a SQLite backup: restore PostgreSQL with its own tools (pg_restore), then run recover without --from');
    }
    if (options.from !== undefined) restoreBackup(options.from, join(config.dataDir, METADATA_FILE));
    const cluster = loadClusterIdentity(config.dataDir);
    const metadata = await openMetadata(config.dataDir, false, config.metadataUrl);
    try {
      await checkCluster(config.dataDir, cluster, openClusterStores(metadata).record, sharedSecrets(config.dataDir, metadata));
      for (const node of options.enrol) await metadata.enrollNode(node);
      const claims = new UnreferencedCopies(CLAIMS_PER_NODE);
      const { registry, replicas, nodeServer } = connectNodes(config, metadata, claims, {
        origins: new BrowserOrigins(config),
        clusterId: cluster.id,
        onForeignCluster: () => {},
        // The chunk sizes of the files are what recovery learns: a chunk may be as large as any can be.
        maxChunkBytes: sealedSize(MAX_CHUNK_BYTES),
      });
      const { server, url } = await serveGateway(async () => new Response('recovering the metadata\n', { status: 503 }), config, nodeServer);
      lock.listening(url);
      try {
        options.listening?.(url);
        const seal = new ManifestSeal(loadSecret(config.dataDir, MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX));
        return await new MetadataRecovery(metadata, registry, replicas, claims, seal, options).run();
      } finally {
        nodeServer.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      await metadata.close();
    }
  } finally {
    lock.release();
  }
}

/** The backup takes the metadata's place; the old one's write-ahead log must not be replayed onto it. */
function restoreBackup(backup: string, path: string): void {
  if (!existsSync(backup)) throw new ShoalError('NOT_FOUND', `no backup at ${backup}`);
  for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  copyFileSync(backup, path);
}
