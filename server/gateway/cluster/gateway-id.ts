import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * This gateway's id among the cluster's, kept in its data directory: a restart is the same
 * gateway, listed in one row. Never exported with the cluster's keys: each gateway has its own.
 */
export const GATEWAY_ID_FILE = 'gateway-id';

export function loadGatewayId(dataDir: string): string {
  const path = join(dataDir, GATEWAY_ID_FILE);
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (id !== '') return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = `gw-${randomBytes(6).toString('hex')}`;
  writeFileSync(path, `${id}\n`, { mode: 0o600 });
  return id;
}
