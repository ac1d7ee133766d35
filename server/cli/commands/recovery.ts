import { join } from 'node:path';
import { ShoalError } from '../../../shared/errors.ts';
import { SqliteMetadataStore } from '../../gateway/metadata/sqlite-metadata-store.ts';
import { METADATA_FILE } from '../../gateway/open-metadata.ts';
import { recoverMetadata } from '../../gateway/start-recovery.ts';
import { NodeConfigFile } from '../node-config.ts';
import { localNodeRecord } from '../node-enrolment.ts';
import { parse, stringOption } from '../options.ts';
import { parseDuration } from '../units.ts';
import { GATEWAY_OPTIONS, gatewayConfig } from './gateway.ts';

/** `shoal backup <file>`: a consistent copy of the metadata, taken while the gateway runs or not. */
export async function backupCommand(args: string[]): Promise<void> {
  const { positionals, dataDir } = parse(args, {});
  const [target] = positionals;
  if (!target || positionals.length > 1) throw new ShoalError('BAD_REQUEST', 'usage: shoal backup <file> [--data DIR]');
  await SqliteMetadataStore.backup(join(dataDir, METADATA_FILE), target);
  console.log(`backed up the metadata of ${dataDir} to ${target}`);
  console.log(`to restore it, stop the gateway and run: shoal recover --from ${target} --data ${dataDir}`);
}

/**
 * `shoal recover`: rebuilds the metadata from the nodes, with the gateway stopped, listening where
 * the gateway does so that the nodes find it. The nodes of this machine (DATA/nodes.json) are
 * enrolled again first, as `shoal node start` does.
 */
export async function recoverCommand(args: string[]): Promise<void> {
  const { values, dataDir } = parse(args, { ...GATEWAY_OPTIONS, wait: { type: 'string' }, from: { type: 'string' }, 'allow-missing': { type: 'boolean' } });
  const local = (await new NodeConfigFile(dataDir).list()).filter((node) => node.join === undefined);
  const report = await recoverMetadata(gatewayConfig(values, dataDir), {
    from: stringOption(values.from),
    waitMs: parseDuration(stringOption(values.wait) ?? '60s'),
    allowMissing: values['allow-missing'] === true,
    enrol: await Promise.all(local.map(localNodeRecord)),
    listening: (url) => console.log(`recovering ${dataDir}: nodes reconnect at ${url}`),
    progress: (line) => console.log(`  ${line}`),
  });
  console.log(
    `recovered in ${report.seconds.toFixed(1)} s (${report.waitedSeconds.toFixed(1)} s waiting for nodes): ` +
      `${report.files} file version(s) and ${report.deletions} deletion(s) from ${report.manifests} manifest(s) on ${report.nodes.length} node(s), ` +
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
