import { readFile, writeFile } from 'node:fs/promises';
import { exportKeys, importKeys } from '../cluster-keys.ts';
import type { CommandSpec } from '../command-spec.ts';

/** `shoal key export [file]`: the cluster's keys, to keep somewhere safe apart from the nodes. */
export const keyExportCommand: CommandSpec = {
  name: 'key export',
  args: '[file]',
  group: 'Running a cluster',
  summary: "write out the cluster's id and keys: the data is encrypted and sealed with them, and a second gateway needs them",
  details:
    "Without a file the keys go to standard output. Besides the data key and the manifest key (losing them loses every file), the export holds the cluster's id, the nodes' join secret and the key S3 secrets are sealed with, which every gateway of the cluster shares. " +
    "Keep it apart from the nodes: whoever has it and the nodes' files can read the data.",
  async run({ positionals, dataDir }) {
    const text = exportKeys(dataDir);
    const [file] = positionals;
    if (file === undefined) return void process.stdout.write(text);
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
    console.log(`wrote the keys of ${dataDir} to ${file}: keep it safe, apart from the nodes`);
  },
};

/** `shoal key import <file>`: puts exported keys in a data directory, before a gateway or recovery starts there. */
export const keyImportCommand: CommandSpec = {
  name: 'key import',
  args: '<file>',
  group: 'Running a cluster',
  summary: 'put the keys of shoal key export in the data directory (another gateway of the cluster, or a new machine before shoal recover)',
  flags: {
    replace: { type: 'boolean', description: 'replace different keys already there: what was written under them becomes unreadable' },
  },
  details: 'Run it with the gateway stopped. Exit code 1 when the data directory holds different keys and --replace is not given.',
  async run({ positionals, values, dataDir }) {
    const written = importKeys(dataDir, await readFile(positionals[0]!, 'utf8'), values.replace === true);
    console.log(written.length > 0 ? `imported ${written.join(', ')} into ${dataDir}` : `${dataDir} holds these keys already`);
  },
};
