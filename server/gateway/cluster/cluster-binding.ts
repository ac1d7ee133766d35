import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../../shared/errors.ts';
import { CLUSTER_ID_FILE, type ClusterIdentity } from '../cluster-identity.ts';
import { checkValue, type ClusterRecord, type ClusterRecordStore } from './cluster-record.ts';

/** A secret every gateway of a cluster must hold alike, kept in each one's data directory. */
export interface SharedSecret {
  /** Its file in the data directory, as `shoal key export` names it. */
  file: string;
  /** What needs this secret and no other, for the refusal of a directory that lacks it. */
  neededBy: string;
  /** The secret there, or null. */
  read(): string | null;
  /** The secret, made where it is missing and may be made (the cluster's first gateway). */
  load(): Promise<string>;
}

/**
 * Ties a data directory to the metadata database it is started on, before anything is written:
 * the database records the cluster's id and a check value of each shared secret, claimed by the
 * first gateway to start on it. A gateway of another cluster, or one lacking or holding other
 * secrets than the cluster's (a second gateway started without `shoal key import`), is refused
 * with what to do, so it never writes the database nor seals data nobody else can open.
 */
export async function bindCluster(dataDir: string, cluster: ClusterIdentity, store: ClusterRecordStore, secrets: SharedSecret[]): Promise<void> {
  const made: string[] = [];
  try {
    await checkCluster(dataDir, cluster, store, secrets);
    const mine: ClusterRecord = { clusterId: cluster.id, checks: {} };
    for (const secret of secrets) {
      if (secret.read() === null) made.push(secret.file);
      mine.checks[secret.file] = checkValue(await secret.load());
    }
    // Another gateway may have claimed the database since it was read: the stored record decides.
    checkRecord(await store.claim(mine), dataDir, cluster, secrets);
  } catch (err) {
    // What this start made in an empty directory is no one's (nothing was written under it): it
    // would only stand in the way of `shoal key import`, which brings the cluster's.
    if (cluster.isNew && err instanceof ShoalError && err.code === 'CONFLICT') {
      for (const file of [CLUSTER_ID_FILE, ...made]) rmSync(join(dataDir, file), { force: true });
    }
    throw err;
  }
}

/** bindCluster's refusals without its claim, which makes missing secrets: for recovery, which must not make a data key. */
export async function checkCluster(dataDir: string, cluster: ClusterIdentity, store: ClusterRecordStore, secrets: SharedSecret[]): Promise<void> {
  const stored = await store.read();
  if (stored) checkRecord(stored, dataDir, cluster, secrets);
}

function checkRecord(stored: ClusterRecord, dataDir: string, cluster: ClusterIdentity, secrets: SharedSecret[]): void {
  const importKeys =
    `to add this gateway to cluster ${stored.clusterId}, run shoal key export FILE --data DIR on the machine of one of its gateways, ` +
    `then here, with this gateway stopped, shoal key import FILE --data ${dataDir}`;
  if (stored.clusterId !== cluster.id) {
    throw new ShoalError(
      'CONFLICT',
      cluster.isNew
        ? `the metadata database belongs to cluster ${stored.clusterId} and ${dataDir} holds none of its keys: ${importKeys}`
        : `the metadata database belongs to cluster ${stored.clusterId}, but ${dataDir} to cluster ${cluster.id}: this gateway will not write another cluster's metadata. ` +
          `Point --metadata at cluster ${cluster.id}'s database, or ${importKeys} --replace`,
    );
  }
  for (const secret of secrets) {
    const check = stored.checks[secret.file];
    if (check === undefined) continue;
    const local = secret.read();
    if (local === null) {
      throw new ShoalError(
        'CONFLICT',
        `${dataDir} has no ${secret.file}, which the gateways of cluster ${cluster.id} share (${secret.neededBy}): ` +
          `put back your copy of it, or ${importKeys}`,
      );
    }
    if (checkValue(local) !== check) {
      throw new ShoalError(
        'CONFLICT',
        `${dataDir}/${secret.file} is not the one the gateways of cluster ${cluster.id} share (what it sealed, no other gateway could open): ${importKeys} --replace`,
      );
    }
  }
}
