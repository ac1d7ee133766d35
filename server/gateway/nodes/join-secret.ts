import { loadSecret } from '../secret-file.ts';

/** The cluster's join secret: whoever holds it may enrol a node. */
export function loadJoinSecret(dataDir: string): string {
  return loadSecret(dataDir, 'join-secret', 'join_');
}
