import { loadSecret } from '../secret-file.ts';

export const JOIN_SECRET_FILE = 'join-secret';
export const JOIN_SECRET_PREFIX = 'join_';

/** The cluster's join secret: whoever holds it may enrol a node. */
export function loadJoinSecret(dataDir: string): string {
  return loadSecret(dataDir, JOIN_SECRET_FILE, JOIN_SECRET_PREFIX);
}
