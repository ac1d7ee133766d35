import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { parse } from '../options.ts';

export async function rebalanceCommand(args: string[]): Promise<void> {
  const { values, gatewayUrl } = parse(args, { 'no-wait': { type: 'boolean' } });
  const client = new ShoalClient(gatewayUrl);
  const before = await client.rebalance();
  console.log('rebalancing: chunks move toward the placement rule at the repair rate');
  if (values['no-wait']) return;
  for (;;) {
    await sleep(500);
    const { repair } = await client.health();
    if (!repair.rebalancing && repair.queued + repair.active === 0) {
      console.log(`rebalanced: ${repair.done - before.done} replica(s) copied, ${repair.removed - before.removed} removed`);
      return;
    }
  }
}

export async function scrubCommand(args: string[]): Promise<void> {
  const { gatewayUrl } = parse(args, {});
  const nodes = await new ShoalClient(gatewayUrl).scrub();
  console.log(`scrub started on ${nodes.length} node(s): ${nodes.join(', ') || 'none online'}; damaged chunks are repaired as they are found`);
}

/** `shoal gc confirm`: collection that paused at its limit for a grace period goes on. */
export async function gcCommand(args: string[]): Promise<void> {
  const { positionals, gatewayUrl } = parse(args, {});
  if (positionals.join(' ') !== 'confirm') throw new ShoalError('BAD_REQUEST', 'usage: shoal gc confirm');
  const nodes = await new ShoalClient(gatewayUrl).confirmCollection();
  console.log(
    nodes.length === 0
      ? 'collection was not paused on any node'
      : `collection resumed on ${nodes.length} node(s): ${nodes.join(', ')}; what is due there is deleted now, without a limit for one grace period`,
  );
}
