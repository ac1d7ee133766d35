import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeConfigFile } from '../cli/node-config.ts';
import { localNodeRecord } from '../cli/node-enrolment.ts';
import { recoverMetadata } from '../gateway/start-recovery.ts';
import { sha256Hex } from '../sha256.ts';
import { randomBytesSeeded, TestCluster } from '../testing/cluster.ts';
import { timed } from './timed.ts';

const UPLOADS_AT_ONCE = 16;
const SAMPLE = 50;

/**
 * What rebuilding the metadata costs: `files` files of `fileBytes` each on three disk nodes (R=2),
 * the gateway stopped and its metadata.db deleted, then `shoal recover`'s work timed in this
 * process. Waiting for the nodes to reconnect (their backoff) is reported apart from the work:
 * listing and reading every manifest, recording the files, reading back every copy.
 */
export async function benchRecovery(options: { files: number; fileBytes: number }) {
  const cluster = await TestCluster.start({ nodes: 3, replicas: 2 });
  try {
    const digests: string[] = [];
    let next = 0;
    const upload = await timed(() =>
      Promise.all(
        Array.from({ length: UPLOADS_AT_ONCE }, async () => {
          for (let i = next++; i < options.files; i = next++) {
            const data = randomBytesSeeded(options.fileBytes, i + 1);
            digests[i] = sha256Hex(data);
            await cluster.client.upload(`bench/${i}.bin`, data);
          }
        }),
      ),
    );
    const port = Number(new URL(cluster.url).port);
    await cluster.kill(cluster.gateway, 'SIGTERM');
    for (const suffix of ['', '-wal', '-shm']) await rm(join(cluster.dataDir, `metadata.db${suffix}`), { force: true });

    const enrol = await Promise.all((await new NodeConfigFile(cluster.dataDir).list()).map(localNodeRecord));
    const progress = (line: string) => console.log(`  ${new Date().toISOString().slice(11, 23)} ${line}`);
    const report = await recoverMetadata({ dataDir: cluster.dataDir, port }, { enrol, waitMs: 60_000, allowMissing: false, progress });

    await cluster.startGateway();
    await cluster.waitForOnline(3, 60_000);
    const listed = await cluster.client.list();
    if (listed.length !== options.files) throw new Error(`recovered ${listed.length} files of ${options.files}`);
    for (let k = 0; k < SAMPLE; k++) {
      const i = Math.floor((k * options.files) / SAMPLE);
      const back = sha256Hex(new Uint8Array(await (await cluster.client.download(`bench/${i}.bin`)).arrayBuffer()));
      if (back !== digests[i]) throw new Error(`bench/${i}.bin came back different`);
    }
    const health = await cluster.client.health();
    if (health.underReplicatedChunks > 0) throw new Error(`${health.underReplicatedChunks} chunks under-replicated after recovery`);
    return {
      files: options.files,
      fileKB: options.fileBytes / 1024,
      uploadFilesPerSecond: options.files / upload.seconds,
      recoverSeconds: report.seconds - report.waitedSeconds,
      waitForNodesSeconds: report.waitedSeconds,
      manifests: report.manifests,
      copiesVerified: report.copies,
    };
  } finally {
    await cluster.stop();
  }
}
