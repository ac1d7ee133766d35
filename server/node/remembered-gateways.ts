import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayAddress } from '../../shared/protocol.ts';

/** Where a disk node keeps the gateways it learnt, beside its chunks. */
const GATEWAYS_FILE = 'gateways.json';

/**
 * The gateways a disk node learnt, kept so that a node restarted while the gateway it is given is
 * down dials the others. What is read is only a list of addresses to try: each must still prove
 * itself to the node, so a damaged or edited file costs connection attempts, never trust.
 */
export async function loadRememberedGateways(dir: string): Promise<GatewayAddress[]> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, GATEWAYS_FILE), 'utf8')) as { gateways?: unknown };
    return Array.isArray(parsed.gateways) ? (parsed.gateways as GatewayAddress[]) : [];
  } catch {
    return [];
  }
}

/** Replaces the list by rename after an fsync, so a crash leaves the old list or the new one, never half of one. */
export async function saveRememberedGateways(dir: string, gateways: readonly GatewayAddress[]): Promise<void> {
  const path = join(dir, GATEWAYS_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify({ gateways }, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
