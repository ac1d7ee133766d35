import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAUNCH_OPTIONS } from '../testing/browser.ts';
import { chromiumCpu, chromiumProcesses, type ChromiumPart } from './chromium-cpu.ts';

/**
 * Chromium started on one page with no DevTools client: Playwright attaches one to every page it
 * drives, and Chromium then copies every WebSocket message and network event to it,
 * which cost a page 7x the CPU per byte it costs a user's browser. So the bench's pages report by
 * HTTP to the bench, and nothing it measures goes through a debugging protocol.
 */
export interface HeadlessChromium {
  /** CPU-seconds each part of this Chromium has used so far, summed over the processes it runs now. */
  cpu(): Record<string, number>;
  /** Rejects if Chromium ends before close(): what a bench waiting on its pages races with. */
  readonly failed: Promise<never>;
  close(): Promise<void>;
}

/**
 * Switches Playwright passes too: a headless page is on no screen, and Chromium must not throttle
 * it as a hidden one, or a tab's figures would measure the throttling.
 */
const FOREGROUND_ARGS = ['--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows', '--disable-renderer-backgrounding'];

/** Headless Chromium opens one page only: a bench wanting two tabs starts two, each with its own profile. */
export async function startHeadlessChromium(url: string): Promise<HeadlessChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'shoal-chromium-'));
  const executable = LAUNCH_OPTIONS.executablePath ?? 'chromium';
  const child: ChildProcess = spawn(executable, ['--headless', ...LAUNCH_OPTIONS.args!, ...FOREGROUND_ARGS, `--user-data-dir=${profile}`, url], { stdio: 'ignore' });
  let closing = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = exited.then(() => {
    throw new Error(closing ? 'Chromium closed' : `Chromium (${executable}) ended before the bench was done`);
  });
  failed.catch(() => {});
  let parts: Record<ChromiumPart, number[]> | null = null;
  return {
    failed,
    cpu() {
      // The process tree as it is when first asked: callers ask once the pages' renderers exist.
      parts ??= chromiumProcesses(child.pid!);
      return chromiumCpu(parts);
    },
    async close() {
      closing = true;
      child.kill('SIGTERM');
      await exited;
      await rm(profile, { recursive: true, force: true });
    },
  };
}
