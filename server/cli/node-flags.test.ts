import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NODE_FLAGS } from './node-flags.ts';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

test('`shoal`, `npm start` and the processes Shoal spawns run with the same V8 flags', () => {
  assert.equal(read('./bin.mjs').split('\n')[0], `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  const start = JSON.parse(read('../../package.json')).scripts.start as string;
  assert.equal(start, `node ${NODE_FLAGS.join(' ')} server/cli/bin.mjs demo`);
});
