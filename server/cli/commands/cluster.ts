import { setTimeout as sleep } from 'node:timers/promises';
import { plural } from '../../../shared/plural.ts';
import { clientFor } from '../client.ts';
import type { CommandSpec } from '../command-spec.ts';

export const rebalanceCommand: CommandSpec = {
  name: 'rebalance',
  group: 'Cluster',
  summary: 'move existing chunks toward the placement rule, at the repair rate',
  client: true,
  flags: { 'no-wait': { type: 'boolean', description: 'return once it has started instead of waiting until it is done' } },
  async run(input) {
    const client = clientFor(input);
    const before = await client.rebalance();
    console.log('rebalancing: chunks move toward the placement rule at the repair rate');
    if (input.values['no-wait']) return;
    for (;;) {
      await sleep(500);
      const { repair } = await client.health();
      if (!repair.rebalancing && repair.queued + repair.active === 0) {
        console.log(`rebalanced: ${plural(repair.done - before.done, 'copy', 'copies')} made, ${repair.removed - before.removed} removed`);
        return;
      }
    }
  },
};

export const scrubCommand: CommandSpec = {
  name: 'scrub',
  group: 'Cluster',
  summary: 'ask every online node to re-read and check its chunks now',
  client: true,
  async run(input) {
    const nodes = await clientFor(input).scrub();
    console.log(`scrub started on ${plural(nodes.length, 'node')}: ${nodes.join(', ') || 'none online'}; damaged chunks are repaired as they are found`);
  },
};

/** `shoal gc confirm`: collection that paused at its limit for a grace period goes on. */
export const gcConfirmCommand: CommandSpec = {
  name: 'gc confirm',
  group: 'Cluster',
  summary: 'let collection go on where it paused at its limit',
  client: true,
  async run(input) {
    const nodes = await clientFor(input).confirmCollection();
    console.log(
      nodes.length === 0
        ? 'collection was not paused on any node'
        : `collection resumed on ${plural(nodes.length, 'node')}: ${nodes.join(', ')}; what is due there is deleted now, without a limit for one grace period`,
    );
  },
};
