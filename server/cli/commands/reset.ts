import { readdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ShoalError } from '../../../shared/errors.ts';
import { plural } from '../../../shared/plural.ts';
import { DataDirLock } from '../../gateway/data-dir-lock.ts';
import { isAlive } from '../../lib/is-alive.ts';
import type { CommandSpec } from '../command-spec.ts';
import { NodeConfigFile } from '../node-config.ts';
import { formatBytes } from '../units.ts';

/**
 * `shoal reset`: a clean start. It stops nothing: a gateway or node still using the data directory
 * makes it refuse, naming each with its pid, since deleting files from under them would leave them
 * running on nothing.
 */
export const resetCommand: CommandSpec = {
  name: 'reset',
  group: 'Running a cluster',
  summary: 'delete the data directory and the storage of its disk nodes, for a clean start (asks first)',
  flags: { yes: { type: 'boolean', short: 'y', description: 'delete without asking' } },
  details:
    'Refused while a gateway or a disk node of that data directory runs (stop them first; reset stops nothing).\n' +
    'Disk nodes created with --dir elsewhere lose their storage there too. Nothing else is touched.',
  async run({ values, dataDir }) {
    const dir = resolve(dataDir);
    if (!(await stat(dir).catch(() => null))?.isDirectory()) {
      console.log(`nothing to reset: ${dir} does not exist`);
      return;
    }
    const nodes = await new NodeConfigFile(dir).list();
    const running = [
      ...[DataDirLock.holder(dir)].filter((g) => g !== null).map((g) => `the gateway (pid ${g.pid}${g.url ? `, ${g.url}` : ''})`),
      ...nodes.filter((n) => n.pid !== undefined && isAlive(n.pid)).map((n) => `node ${n.id} (pid ${n.pid})`),
    ];
    if (running.length > 0) {
      throw new ShoalError('CONFLICT', `${dir} is in use by ${running.join(', ')}: stop ${running.length === 1 ? 'it' : 'them'} first (reset stops nothing)`);
    }
    const outside = nodes.map((n) => n.dir).filter((nodeDir) => isOutside(nodeDir, dir));
    const targets = [dir, ...outside];
    const sizes = await Promise.all(targets.map(sizeOf));
    console.log('shoal reset will delete:');
    targets.forEach((target, i) => console.log(`  ${target}  (${formatBytes(sizes[i]!)})`));
    if (values.yes !== true) {
      if (!process.stdin.isTTY) throw new ShoalError('BAD_REQUEST', 'nothing deleted: not on a terminal, so pass --yes to confirm');
      if (!(await confirm('delete them? [y/N] '))) {
        console.error('shoal: nothing deleted');
        return 1;
      }
    }
    const entries = await readdir(dir);
    for (const target of targets) await rm(target, { recursive: true, force: true });
    console.log(
      `removed ${dir} (${entries.sort().join(', ') || 'empty'})` +
        `${outside.length > 0 ? ` and ${plural(outside.length, 'node store')} elsewhere (${outside.join(', ')})` : ''}: ` +
        `${formatBytes(sizes.reduce((a, b) => a + b, 0))} freed`,
    );
  },
};

function isOutside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel.startsWith('..') || isAbsolute(rel);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Bytes under `path`, following no links. */
async function sizeOf(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (!entry.isSymbolicLink()) total += await sizeOf(join(path, entry.name));
  }
  return total;
}
