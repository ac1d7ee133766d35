import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime: USER_HZ, 100 on every Linux Node supports. */
const TICKS_PER_SECOND = 100;

/**
 * CPU-seconds (user + system) a process has used so far: this one by process.cpuUsage, another
 * by its /proc/<pid>/stat. CPU time, unlike wall time, does not grow when other work shares the
 * cores, so it says where a transfer's cost goes on a busy machine too.
 */
export function cpuSeconds(pid: number): number {
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name, field 2, may hold spaces: count fields from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** What each named process spent during `work`, in CPU-seconds. */
export async function measureCpu<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const result = await work();
  const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) - before[name]!]));
  return { result, cpu };
}

/** CPU-seconds per GiB moved, per process, rounded for a report. */
export function perGiB(cpu: Record<string, number>, bytes: number): Record<string, number> {
  const gib = bytes / 1024 ** 3;
  return Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, Math.round((seconds / gib) * 100) / 100]));
}
