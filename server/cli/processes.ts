import type { ChildProcess } from 'node:child_process';

/** How long a child may take over stopping before it is killed: a shutdown stuck on anything must not hang its parent. */
const STOP_GRACE_MS = 20_000;

/**
 * Signals a child and resolves once it has exited (at once if it already has). SIGCONT follows,
 * so a process frozen with SIGSTOP acts on the signal instead of leaving the caller waiting; one
 * still running after STOP_GRACE_MS is killed.
 */
export async function stopChild(child: ChildProcess | null | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  child.kill('SIGCONT');
  const overdue = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(overdue);
}
