import { join } from 'node:path';
import { ShoalError } from '../../../shared/errors.ts';
import { plural } from '../../../shared/plural.ts';
import { SqliteMetadataStore } from '../../gateway/metadata/sqlite-metadata-store.ts';
import { METADATA_FILE } from '../../gateway/open-metadata.ts';
import { recoverMetadata } from '../../gateway/start-recovery.ts';
import { NodeConfigFile } from '../node-config.ts';
import { localNodeRecord } from '../node-enrolment.ts';
import type { CommandInput, CommandSpec } from '../command-spec.ts';
import { durationOption, stringOption } from '../options.ts';
import { GATEWAY_FLAGS, gatewayConfig } from './gateway.ts';

/** `shoal backup <file>`: a consistent copy of the metadata, taken while the gateway runs or not. */
export const backupCommand: CommandSpec = {
  name: 'backup',
  args: '<file>',
  group: 'Running a cluster',
  summary: 'a consistent copy of the metadata (SQLite online backup), the gateway running or not',
  run: runBackup,
};

async function runBackup({ positionals, dataDir }: CommandInput): Promise<void> {
  const [target] = positionals as [string];
  await SqliteMetadataStore.backup(join(dataDir, METADATA_FILE), target);
  console.log(`backed up the metadata of ${dataDir} to ${target}`);
  console.log(`to restore it, stop the gateway and run: shoal recover --from ${target} --data ${dataDir}`);
}

/**
 * `shoal recover`: rebuilds the metadata from the nodes, with the gateway stopped, listening where
 * the gateway does so that the nodes find it. The nodes of this machine (DATA/nodes.json) are
 * enrolled again first, as `shoal node start` does.
 */
export const recoverCommand: CommandSpec = {
  name: 'recover',
  group: 'Running a cluster',
  summary: 'with the gateway stopped: rebuild the metadata from the nodes',
  flags: {
    from: { type: 'string', value: 'BACKUP', description: 'first put this backup (from shoal backup) in place of metadata.db' },
    wait: { type: 'string', value: 'DURATION', default: '60s', description: 'how long to wait for the known nodes to report' },
    'allow-missing': { type: 'boolean', description: 'finish even if a node the metadata knows did not report (gone for good)' },
    ...GATEWAY_FLAGS,
  },
  details: 'It listens where the gateway does (--port, --host), so nodes reconnect to it. Exit code 1 when a known node did not report.',
  run: runRecover,
};

async function runRecover({ values, dataDir }: CommandInput): Promise<void> {
  const local = (await new NodeConfigFile(dataDir).list()).filter((node) => node.join === undefined);
  const report = await recoverMetadata(gatewayConfig(values, dataDir), {
    from: stringOption(values.from),
    waitMs: durationOption(values.wait, 'wait', 60_000),
    allowMissing: values['allow-missing'] === true,
    enrol: await Promise.all(local.map(localNodeRecord)),
    listening: (url) => console.log(`recovering ${dataDir}: nodes reconnect at ${url}`),
    progress: (line) => console.log(`  ${line}`),
  });
  console.log(
    `recovered in ${report.seconds.toFixed(1)} s (${report.waitedSeconds.toFixed(1)} s waiting for nodes): ` +
      `${plural(report.files, 'file version')} and ${plural(report.deletions, 'deletion')} from ${plural(report.manifests, 'manifest')} on ${plural(report.nodes.length, 'node')}, ` +
      `${report.copies} copies verified`,
  );
  if (report.missing.length > 0 && values['allow-missing'] !== true) {
    throw new ShoalError(
      'CONFLICT',
      `nodes ${report.missing.join(', ')} did not report, and may hold what is still missing: start them and run shoal recover again, or pass --allow-missing`,
    );
  }
  console.log(`start the gateway: shoal gateway --data ${dataDir}`);
}
