import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ShoalError } from '../../shared/errors.ts';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8000';

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  data: { type: 'string' },
  gateway: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** parseArgs with the options every command takes, and its errors turned into one clear line. */
export function parse(args: string[], options: Options) {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
    return {
      values: values as Record<string, string | boolean | undefined>,
      positionals,
      dataDir: (values.data as string | undefined) ?? process.env.SHOAL_DATA ?? './shoal-data',
      gatewayUrl: (values.gateway as string | undefined) ?? process.env.SHOAL_GATEWAY ?? DEFAULT_GATEWAY_URL,
    };
  } catch (err) {
    throw new ShoalError('BAD_REQUEST', (err as Error).message);
  }
}

export function numberOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n) || n < 0) throw new ShoalError('BAD_REQUEST', `--${name} needs a number, got ${String(value)}`);
  return n;
}

export function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Runs `stop` once on Ctrl-C or SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(signal === 'SIGINT' ? 130 : 0),
      (err: Error) => {
        console.error(`shoal: error while stopping: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
