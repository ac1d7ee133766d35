#!/usr/bin/env node
// Node 20's test runner takes no globs, so this finds the test files and hands them over.
// `npm test -- cli e2e` narrows the run to files whose path contains one of the words.
// `npm test -- unit` runs only the files that need no other process and no browser: the rest say so
// in their names, `*.integration.test.ts` (starts gateways or nodes) and `*.spec.ts` (drives Chromium).
// The two combine: `npm test -- unit gateway`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const words = process.argv.slice(2);
const unitOnly = words.includes('unit');
const filters = words.filter((word) => word !== 'unit');
const isUnit = (path) => path.endsWith('.test.ts') && !path.endsWith('.integration.test.ts');

function walk(dir) {
  return readdirSync(dir).flatMap((entry) => {
    if (entry === 'node_modules' || entry.startsWith('.')) return [];
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = ['shared', 'server', 'web', 'e2e']
  .flatMap((dir) => walk(join(root, dir)))
  .filter((path) => /\.(test|spec)\.ts$/.test(path))
  .map((path) => relative(root, path))
  .filter((path) => !unitOnly || isUnit(path))
  .filter((path) => filters.length === 0 || filters.some((f) => path.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${words.join(' ')}`);
  process.exit(1);
}

// A test that hangs fails by name after ten minutes, instead of stalling the whole run until CI gives up.
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
