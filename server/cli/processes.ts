import type { ChildProcess } from 'node:child_process';

/**
 * Signals a child and resolves once it has exited (at once if it already has). SIGCONT follows,
 * so a process frozen with SIGSTOP acts on the signal instead of leaving the caller waiting.
 */
export async function stopChild(child: ChildProcess | null | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  child.kill('SIGCONT');
  await exited;
}
