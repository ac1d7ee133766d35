import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { COMMANDS } from './command-list.ts';
import { flagsOf, gatewayUrl, parseCommand, type CommandSpec } from './command-spec.ts';
import { commandHelp } from './help.ts';
import { closest } from './suggest.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('every flag the README names for a command is in that command\'s help', () => {
  const section = README.slice(README.indexOf('\n## CLI'), README.indexOf('\n## ', README.indexOf('\n## CLI') + 1));
  const helps = COMMANDS.map(commandHelp).join('\n');
  const named = new Set([...section.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
  assert.ok(named.size > 20, 'the README\'s CLI section was found');
  assert.deepEqual([...named].filter((flag) => !new RegExp(`^ +(-\\w, )?${flag}\\b`, 'm').test(helps)), []);
});

test('each command\'s help lists every flag it takes, with a description', () => {
  for (const spec of COMMANDS) {
    const help = commandHelp(spec);
    for (const [name, flag] of Object.entries(flagsOf(spec))) {
      assert.ok(flag.description.length > 0, `${spec.name} --${name} has a description`);
      assert.match(help, new RegExp(`--${name}\\b`), `${spec.name} --help lists --${name}`);
    }
  }
});

const SPEC: Pick<CommandSpec, 'name' | 'args' | 'flags' | 'client'> = {
  name: 'thing',
  args: '<a> [b]',
  client: true,
  flags: { storage: { type: 'string', value: 'SIZE', description: 's' }, yes: { type: 'boolean', short: 'y', description: 'y' } },
};

test('flags are read from the spec: values, switches, short forms, and --flag=value', () => {
  const input = parseCommand(SPEC, ['one', '--storage', '-5', '-y', '--gateway=example.org:8000']);
  assert.deepEqual(input.positionals, ['one']);
  assert.equal(input.values.storage, '-5');
  assert.equal(input.values.yes, true);
  assert.equal(input.gatewayUrl, 'http://example.org:8000');
});

test('mistakes name the flag, suggest the nearest one, and count arguments', () => {
  assert.throws(() => parseCommand(SPEC, ['a', '--storag', '1']), /^ShoalError: unknown flag --storag; did you mean --storage\? \(see: shoal thing --help\)$/);
  assert.throws(() => parseCommand(SPEC, ['a', '--frobnicate']), /^ShoalError: unknown flag --frobnicate \(see/);
  assert.throws(() => parseCommand(SPEC, ['a', '--storage']), /--storage needs a value \(SIZE\)/);
  assert.throws(() => parseCommand(SPEC, ['a', '--storage', '--yes']), /--storage needs a value/);
  assert.throws(() => parseCommand(SPEC, ['a', '--yes=no']), /--yes takes no value/);
  assert.throws(() => parseCommand(SPEC, []), /missing <a>/);
  assert.throws(() => parseCommand(SPEC, ['a', 'b', 'c']), /unexpected argument "c"/);
});

test('a gateway given without a scheme is taken for http; other schemes are refused', () => {
  assert.equal(gatewayUrl('127.0.0.1:18950'), 'http://127.0.0.1:18950');
  assert.equal(gatewayUrl('https://shoal.example/'), 'https://shoal.example');
  assert.equal(gatewayUrl('localhost'), 'http://localhost');
  assert.throws(() => gatewayUrl('ftp://x'), /--gateway needs a gateway URL/);
});

test('suggestions are near misses only', () => {
  assert.equal(closest('--gatway', ['--gateway', '--data']), '--gateway');
  assert.equal(closest('stauts', ['status', 'scrub']), 'status');
  assert.equal(closest('--bogus', ['--gateway', '--data', '--name']), undefined);
});
