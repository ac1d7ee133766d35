import { ShoalError } from '../../shared/errors.ts';
import { parseDuration, parseSize } from './units.ts';

export function numberOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n) || n < 0) throw new ShoalError('BAD_REQUEST', `--${name} needs a number, got ${String(value)}`);
  return n;
}

/** A size flag (`--storage 1GB`), its errors naming the flag; `bareUnit` is what a plain number means. */
export function sizeOption(value: string | boolean | undefined, name: string, fallback: number, bareUnit = 'b'): number {
  if (typeof value !== 'string') return fallback;
  if (/^\s*-/.test(value)) throw new ShoalError('BAD_REQUEST', `--${name} needs a size like 512MB, 1GB or 4MiB, not a negative one (got ${value})`);
  try {
    return parseSize(value, bareUnit);
  } catch (err) {
    throw new ShoalError('BAD_REQUEST', `--${name}: ${(err as Error).message}`);
  }
}

/** A duration flag (`--repair-after 60s`), its errors naming the flag. */
export function durationOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (typeof value !== 'string') return fallback;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new ShoalError('BAD_REQUEST', `--${name}: ${(err as Error).message}`);
  }
}

export function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Stopping that takes longer gives up and exits: everything Shoal writes survives a kill -9, so
 * nothing is lost, and a service manager or parent waiting on the exit is not left hanging.
 */
const SHUTDOWN_LIMIT_MS = 10_000;

/** Runs `stop` once on Ctrl-C or SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    setTimeout(() => {
      console.error(`shoal: still stopping after ${SHUTDOWN_LIMIT_MS / 1000} s: exiting without waiting further`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
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
