import { flagsOf, type CommandSpec, type Flags } from './command-spec.ts';

const WIDTH = 100;

/** `shoal --help`: every command, one line each, under its group. */
export function overview(commands: readonly CommandSpec[]): string {
  return [
    'shoal: pooled storage on disks and browser tabs',
    '',
    'Usage: shoal <command> [flags]',
    ...commandLines(commands),
    '',
    'Every command takes --data DIR (env SHOAL_DATA, default ./shoal-data); commands that talk to a gateway take',
    '--gateway URL (env SHOAL_GATEWAY, default http://127.0.0.1:8000).',
    'Run `shoal <command> --help` (or `shoal help <command>`) for its flags.',
  ].join('\n');
}

/** `shoal node --help`: the subcommands of one group. */
export function groupHelp(group: string, commands: readonly CommandSpec[]): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `)).map((c) => ({ ...c, group: 'Commands' }));
  return [`Usage: shoal ${group} <command> [flags]`, ...commandLines(members), '', `Run \`shoal ${group} <command> --help\` for its flags.`].join('\n');
}

/** One line per command under its group's heading. */
function commandLines(commands: readonly CommandSpec[]): string[] {
  const usageOf = (c: CommandSpec) => `shoal ${c.name}${c.args ? ` ${c.args}` : ''}`;
  const width = Math.max(...commands.map((c) => usageOf(c).length)) + 2;
  return [...new Set(commands.map((c) => c.group))].flatMap((group) => [
    '',
    `${group}:`,
    ...commands.filter((c) => c.group === group).flatMap((c) => columns(`  ${usageOf(c)}`, c.summary, width + 2)),
  ]);
}

/** `shoal <command> --help`: what it does, its arguments and every flag it takes. */
export function commandHelp(spec: CommandSpec): string {
  const own = spec.flags ?? {};
  const global = Object.fromEntries(Object.entries(flagsOf(spec)).filter(([name]) => !(name in own)));
  const lines = [spec.summary, '', `Usage: shoal ${spec.name}${spec.args ? ` ${spec.args}` : ''} [flags]`];
  if (Object.keys(own).length > 0) lines.push('', 'Flags:', ...flagLines(own));
  lines.push('', 'Global flags:', ...flagLines(global));
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}

function flagLines(flags: Flags): string[] {
  const entries = Object.entries(flags).map(([name, f]) => ({
    left: `  ${f.short ? `-${f.short}, ` : '    '}--${name}${f.value ? ` ${f.value}` : ''}`,
    text: `${f.description}${f.default !== undefined ? ` (default ${f.default})` : ''}`,
  }));
  const width = Math.max(...entries.map((e) => e.left.length)) + 2;
  return entries.flatMap((e) => columns(e.left, e.text, width));
}

/** `left` then `text` wrapped to the terminal's width, continuation lines indented under the text. */
function columns(left: string, text: string, width: number): string[] {
  const room = Math.max(30, WIDTH - width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? (left.length + 2 > width ? [left, ' '.repeat(width) + l] : [left.padEnd(width) + l]) : [' '.repeat(width) + l])).flat();
}
