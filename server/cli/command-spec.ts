import { parseArgs } from 'node:util';
import { ShoalError } from '../../shared/errors.ts';
import { closest } from './suggest.ts';

/** One flag of a command, as its help shows it and its parser reads it. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** One letter: `-o`. */
  short?: string;
  /** What the value is, in help: `SIZE`, `URL`, `DIR`. */
  value?: string;
  /** Said in help as "(default …)"; the command applies it. */
  default?: string;
  description: string;
  /** May be given several times; its value is then a list joined with ','. */
  multiple?: boolean;
}

export type Flags = Record<string, FlagSpec>;

/** What a command receives: its flags read, its arguments counted against `args`. */
export interface CommandInput {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  dataDir: string;
  /** With a scheme, whatever the user typed (`127.0.0.1:8000` is taken for http://). */
  gatewayUrl: string;
}

/**
 * A `shoal` command, declared once: its help, its flag parsing and its usage errors all come
 * from here. `run` may return an exit code (default 0).
 */
export interface CommandSpec {
  /** `ls`, or a command and subcommand: `node create`. */
  name: string;
  /** Positional arguments as help shows them: `<id>`, `<files...>`, `[prefix]`. Their count is checked. */
  args?: string;
  summary: string;
  /** Paragraphs after the flags: examples, exit codes. */
  details?: string;
  /** Heading it is listed under in `shoal --help`. */
  group: string;
  flags?: Flags;
  /** Talks to a running gateway: takes the client flags (--gateway…). */
  client?: boolean;
  run(input: CommandInput): Promise<number | void>;
}

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8000';

/** Flags every command takes. */
export const COMMON_FLAGS: Flags = {
  data: { type: 'string', value: 'DIR', default: './shoal-data', description: 'the data directory, or env SHOAL_DATA' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/** `--ca FILE`: bin.mjs takes it off the arguments and runs the command trusting that CA. */
export const CA_FLAG: Flags[string] = {
  type: 'string',
  value: 'FILE',
  description: "a CA certificate (PEM) to trust for an https:// or wss:// gateway, or env SHOAL_CA",
};

/** Flags every command that talks to a gateway takes (`client: true`). */
export const CLIENT_FLAGS: Flags = {
  gateway: { type: 'string', value: 'URL', default: DEFAULT_GATEWAY_URL, description: 'the gateway to talk to, or env SHOAL_GATEWAY; http:// is assumed when no scheme is given' },
  token: { type: 'string', value: 'TOKEN', description: 'the API token to send (env SHOAL_TOKEN); default the admin token in DATA/admin-token' },
  ca: CA_FLAG,
};

export function flagsOf(spec: Pick<CommandSpec, 'flags' | 'client'>): Flags {
  return { ...spec.flags, ...(spec.client ? CLIENT_FLAGS : {}), ...COMMON_FLAGS };
}

/**
 * Reads `args` against the command's flags. Mistakes get one clear line: an unknown flag with the
 * nearest known one, a missing value, a value given to a switch, too few or too many arguments.
 */
export function parseCommand(spec: Pick<CommandSpec, 'name' | 'args' | 'flags' | 'client'>, args: string[]): CommandInput {
  const flags = flagsOf(spec);
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, f]) => [name, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]),
  );
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const flag = flags[token.name];
    if (!flag) throw unknownFlag(spec.name, token.rawName, flags);
    const shown = `--${token.name}`;
    if (flag.type === 'boolean') {
      if (token.value !== undefined) throw usage(spec.name, `${shown} takes no value (got ${JSON.stringify(token.value)})`);
      values[token.name] = true;
      continue;
    }
    // Non-strict parsing takes the next word whatever it is; a flag there means this one's value is missing.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw usage(spec.name, `${shown} needs a value${flag.value ? ` (${flag.value})` : ''}`);
    }
    const previous = values[token.name];
    values[token.name] = flag.multiple && typeof previous === 'string' ? `${previous},${token.value}` : token.value;
  }
  checkArgCount(spec, positionals);
  const gateway = values.gateway as string | undefined;
  return {
    values,
    positionals,
    dataDir: (values.data as string | undefined) ?? process.env.SHOAL_DATA ?? './shoal-data',
    gatewayUrl: gatewayUrl(gateway ?? process.env.SHOAL_GATEWAY ?? DEFAULT_GATEWAY_URL, gateway === undefined ? 'SHOAL_GATEWAY' : '--gateway'),
  };
}

/**
 * `127.0.0.1:8000` is taken for `http://127.0.0.1:8000`, and `wss://host` for `https://host` (the
 * same port serves both); anything that is no http(s) or ws(s) URL is refused.
 */
export function gatewayUrl(text: string, source = '--gateway'): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text.replace(/^ws(s?):/i, 'http$1:') : `http://${text}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : null;
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
    throw new ShoalError('BAD_REQUEST', `${source} needs a gateway URL like ${DEFAULT_GATEWAY_URL}, got ${JSON.stringify(text)}`);
  }
  return withScheme.replace(/\/+$/, '');
}

function checkArgCount(spec: Pick<CommandSpec, 'name' | 'args'>, positionals: string[]): void {
  const words = (spec.args ?? '').split(/\s+/).filter(Boolean);
  const required = words.filter((w) => w.startsWith('<')).length;
  const unlimited = words.some((w) => w.includes('...'));
  if (positionals.length < required) throw usage(spec.name, `missing ${words.filter((w) => w.startsWith('<'))[positionals.length]}`);
  if (!unlimited && positionals.length > words.length) {
    throw usage(spec.name, `unexpected argument ${JSON.stringify(positionals[words.length])}`);
  }
}

function unknownFlag(command: string, raw: string, flags: Flags): ShoalError {
  const known = Object.entries(flags).flatMap(([name, f]) => [`--${name}`, ...(f.short ? [`-${f.short}`] : [])]);
  const guess = closest(raw.replace(/=.*$/, ''), known);
  return usage(command, `unknown flag ${raw}${guess ? `; did you mean ${guess}?` : ''}`);
}

function usage(command: string, message: string): ShoalError {
  return new ShoalError('BAD_REQUEST', `${message} (see: shoal ${command} --help)`);
}

/** `--json` for commands whose output scripts read. */
export const JSON_FLAG: FlagSpec = { type: 'boolean', description: 'print JSON instead of a table, for scripts' };
