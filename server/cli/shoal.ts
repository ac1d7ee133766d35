import { ShoalError, toShoalError } from '../../shared/errors.ts';
import { COMMANDS } from './command-list.ts';
import { parseCommand, type CommandSpec } from './command-spec.ts';
import { commandHelp, groupHelp, overview } from './help.ts';
import { closest } from './suggest.ts';

const HELP = new Set(['--help', '-h']);

/** The command named by the first words of argv (`node create …`, `s3 key list …`), and the words after it. */
function find(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const words of [3, 2, 1]) {
    const spec = COMMANDS.find((c) => c.name === argv.slice(0, words).join(' '));
    if (spec) return { spec, rest: argv.slice(words) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...after] = argv;
  if (first === undefined || HELP.has(first) || (first === 'help' && after.length === 0)) {
    console.log(overview(COMMANDS));
    return 0;
  }
  // `shoal help node create` is `shoal node create --help`.
  const words = first === 'help' ? [...after, '--help'] : argv;
  const found = find(words);
  if (found) {
    const flagsEnd = found.rest.indexOf('--');
    if (found.rest.slice(0, flagsEnd < 0 ? undefined : flagsEnd).some((arg) => HELP.has(arg))) {
      console.log(commandHelp(found.spec));
      return 0;
    }
    return (await found.spec.run(parseCommand(found.spec, found.rest))) ?? 0;
  }
  // The longest run of leading words that some commands' names start with: `node`, or `s3 key`.
  let depth = 0;
  while (depth < words.length && COMMANDS.some((c) => c.name.startsWith(`${words.slice(0, depth + 1).join(' ')} `))) depth++;
  const group = words.slice(0, depth).join(' ');
  const sub = words[depth];
  if (depth > 0) {
    if (sub === undefined || HELP.has(sub)) {
      console.log(groupHelp(group, COMMANDS));
      return sub === undefined ? 2 : 0;
    }
    const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1).split(' ')[0]!);
    const guess = closest(sub, [...new Set(subs)]);
    throw new ShoalError('BAD_REQUEST', `unknown command "${group} ${sub}"${guess ? `; did you mean shoal ${group} ${guess}?` : ''} (see: shoal ${group} --help)`);
  }
  const names = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!))];
  const guess = closest(sub!, names);
  throw new ShoalError('BAD_REQUEST', `unknown command ${JSON.stringify(sub)}${guess ? `; did you mean shoal ${guess}?` : ''} (see: shoal --help)`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = toShoalError(err);
    if (e.code === 'INTERNAL' && process.env.SHOAL_DEBUG) console.error(err);
    console.error(`shoal: ${e.message}`);
    process.exit(e.code === 'BAD_REQUEST' ? 2 : 1);
  },
);
