import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from './process-cpu.ts';

/** Chromium's processes by the job that costs a tab's node its CPU: each kind's CPU-seconds are summed. */
export type ChromiumPart = 'browser' | 'renderers' | 'network' | 'storage' | 'other';

/**
 * The processes of the Chromium whose browser process is `browserPid`, by part: the browser
 * process, the tabs' renderers, the network service (fetch and WebSocket bytes), the storage
 * service (IndexedDB), and the rest (GPU, zygotes). Read from /proc.
 */
export function chromiumProcesses(browserPid: number): Record<ChromiumPart, number[]> {
  const parts: Record<ChromiumPart, number[]> = { browser: [], renderers: [], network: [], storage: [], other: [] };
  const children = new Map<number, number[]>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      // Chromium rewrites its children's command lines into one string: read it with NULs as spaces.
      commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // Gone between the listing and the read.
    }
  }
  const visit = (pid: number): void => {
    parts[partOf(commands.get(pid) ?? '')].push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(browserPid);
  return parts;
}

function partOf(command: string): ChromiumPart {
  if (!command.includes('--type=')) return 'browser';
  if (command.includes('--type=renderer')) return 'renderers';
  if (command.includes('NetworkService')) return 'network';
  if (command.includes('StorageService')) return 'storage';
  return 'other';
}

/** CPU-seconds each part of Chromium has used so far; a process that ended meanwhile counts as nothing. */
export function chromiumCpu(parts: Record<ChromiumPart, number[]>): Record<string, number> {
  const total = (pids: number[]): number =>
    pids.reduce((sum, pid) => {
      try {
        return sum + cpuSeconds(pid);
      } catch {
        return sum;
      }
    }, 0);
  return Object.fromEntries(Object.entries(parts).map(([part, pids]) => [`chromium ${part}`, total(pids)]));
}
