import type { ClusterHealth, FileListing } from '../../../shared/api-client.ts';
import { plural } from '../../../shared/plural.ts';
import { downloadFile, uploadFile } from '../../client/node.ts';
import { clientFor } from '../client.ts';
import { JSON_FLAG, type CommandSpec } from '../command-spec.ts';
import { ProgressBar } from '../progress.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { localTime } from '../time.ts';
import { formatBytes, formatRate } from '../units.ts';

/** `shoal status` exit codes: scripts and monitors read the cluster's health from them. */
export const STATUS_EXIT: Record<ClusterHealth['status'], number> = { ok: 0, degraded: 3, unavailable: 4 };

export const uploadCommand: CommandSpec = {
  name: 'upload',
  args: '<files...>',
  group: 'Files',
  summary: 'store files in the cluster (streamed; a progress bar on a terminal)',
  client: true,
  flags: { name: { type: 'string', value: 'NAME', description: 'the name to store it under (one file only); default its base name' } },
  async run(input) {
    const name = input.values.name as string | undefined;
    if (name && input.positionals.length > 1) throw new ShoalError('BAD_REQUEST', '--name works with one file only');
    const client = clientFor(input);
    for (const path of input.positionals) {
      let bar: ProgressBar | undefined;
      const file = await uploadFile(client, path, {
        name,
        onProgress: (sent, total) => {
          bar ??= new ProgressBar(`upload ${name ?? path}`, total);
          bar.update(sent);
        },
      });
      const seconds = bar?.finish().seconds ?? 0;
      console.log(
        `uploaded ${file.name}: ${formatBytes(file.size)}, ${plural(file.chunks, 'chunk')} × ${plural(file.replicas, 'replica')}, ` +
          `sha256 ${file.sha256} (${formatRate(file.size / Math.max(seconds, 0.001))})`,
      );
    }
  },
};

export const downloadCommand: CommandSpec = {
  name: 'download',
  args: '<name>',
  group: 'Files',
  summary: 'fetch a file, verifying its SHA-256 before it appears',
  client: true,
  flags: { output: { type: 'string', short: 'o', value: 'PATH', description: 'where to write it: a file, or a directory (ending in / or existing) to put it in under its base name; default ./<base name>' } },
  async run(input) {
    const [name] = input.positionals as [string];
    let bar: ProgressBar | undefined;
    const result = await downloadFile(clientFor(input), name, (input.values.output as string | undefined) ?? './', {
      onProgress: (received, total) => {
        bar ??= new ProgressBar(`download ${name}`, total);
        bar.update(received);
      },
    });
    const seconds = bar?.finish().seconds ?? 0;
    console.log(`downloaded ${name} to ${result.path}: ${formatBytes(result.size)}, sha256 verified (${formatRate(result.size / Math.max(seconds, 0.001))})`);
  },
};

export const lsCommand: CommandSpec = {
  name: 'ls',
  args: '[prefix]',
  group: 'Files',
  summary: 'list stored files, or those whose names start with a prefix (`ls backups/`)',
  client: true,
  flags: { json: JSON_FLAG },
  details: 'With --json: an array of {name,size,sha256,chunks,replicas,createdAt,health}.',
  async run(input) {
    const prefix = input.positionals[0] ?? '';
    const files = await listAll(clientFor(input), prefix);
    if (input.values.json) {
      console.log(JSON.stringify(files, null, 2));
      return;
    }
    if (files.length === 0) {
      console.log(prefix ? `no files under ${JSON.stringify(prefix)}` : 'no files stored');
      return;
    }
    console.log(['SIZE'.padStart(10), 'CHUNKS'.padStart(6), 'HEALTH'.padEnd(11), 'CREATED'.padEnd(26), 'NAME'].join(' '));
    for (const f of files) {
      console.log([formatBytes(f.size).padStart(10), String(f.chunks).padStart(6), f.health.padEnd(11), localTime(f.createdAt).padEnd(26), f.name].join(' '));
    }
  },
};

/** Every file under `prefix`, page by page. */
async function listAll(client: ReturnType<typeof clientFor>, prefix: string): Promise<FileListing[]> {
  const files: FileListing[] = [];
  let after: string | undefined;
  do {
    const page = await client.listPage({ prefix, after });
    files.push(...page.files);
    after = page.next;
  } while (after !== undefined);
  return files;
}

export const rmCommand: CommandSpec = {
  name: 'rm',
  args: '<names...>',
  group: 'Files',
  summary: 'delete files',
  client: true,
  async run(input) {
    const client = clientFor(input);
    for (const name of input.positionals) {
      await client.delete(name);
      console.log(`deleted ${name}`);
    }
  },
};

export const statusCommand: CommandSpec = {
  name: 'status',
  group: 'Cluster',
  summary: "the cluster's health and every node; the exit code says how healthy it is",
  client: true,
  flags: { json: JSON_FLAG },
  details: [
    'Exit codes: 0 ok (every chunk has its R copies); 3 degraded (every file readable, some chunks below R copies);',
    '4 unavailable (some file cannot be read now); 1 the gateway could not be asked; 2 a usage error.',
    'With several gateways on one database, a line for each, and which one runs repair.',
    'With --json: {"health": <GET /api/health>, "nodes": [<GET /api/nodes>], "gateways": [<GET /api/gateways>]}.',
  ].join('\n'),
  async run(input) {
    const client = clientFor(input);
    // A gateway of an earlier release has no /api/gateways: it is the only one.
    const gateways = client.gateways().catch((err: unknown) => {
      if (err instanceof ShoalError && err.code === 'NOT_FOUND') return [];
      throw err;
    });
    const [health, nodes, listed] = await Promise.all([client.health(), client.nodes(), gateways]);
    if (input.values.json) {
      console.log(JSON.stringify({ health, nodes, gateways: listed }, null, 2));
      return STATUS_EXIT[health.status];
    }
    console.log(
      `cluster ${health.status}: ${health.nodesOnline}/${plural(health.nodesTotal, 'node')} online, ${plural(health.files, 'file')}, ${plural(health.chunks, 'chunk')}, ` +
        `${health.underReplicatedChunks} under-replicated, ${formatBytes(health.usedBytes)} of ${formatBytes(health.capacityBytes)} used on the nodes online (R=${health.replicas})`,
    );
    const { failed, lastFailure } = health.repair;
    if (failed > 0) console.log(`repair: ${plural(failed, 'job')} failed${lastFailure ? `; newest at ${localTime(lastFailure.at)}: ${lastFailure.reason}` : ''}`);
    if (listed.length > 1) {
      for (const g of listed) {
        console.log(`  gateway ${g.id} ${g.status.padEnd(8)} ${g.url}${g.repairer ? ', runs repair' : ''}${g.self ? ' (this one answered)' : ''}, last seen ${localTime(g.lastSeenAt)}`);
      }
    }
    for (const n of nodes) {
      console.log(
        `  ${n.id.padEnd(14)} ${n.kind.padEnd(7)} ${n.status.padEnd(8)} ${formatBytes(n.usedBytes).padStart(9)} / ${formatBytes(n.capacityBytes).padEnd(9)} ` +
          `${plural(n.chunkCount, 'chunk')}, last seen ${localTime(n.lastSeenAt)}${n.quarantine ? `, quarantined: ${n.quarantine}` : ''}`,
      );
    }
    return STATUS_EXIT[health.status];
  },
};
