import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContractCase } from '../../../shared/chunk-store.contract.ts';
import type { NodePresence } from './node-presence.ts';

/** The behaviour every NodePresence must show, run on SQLite and on a real PostgreSQL server. */
export function nodePresenceContract(factory: () => Promise<{ presence: NodePresence; cleanup: () => Promise<void> }>): ContractCase[] {
  const withPresence = (name: string, body: (presence: NodePresence) => Promise<void>): ContractCase => ({
    name,
    run: async () => {
      const harness = await factory();
      try {
        await body(harness.presence);
      } finally {
        await harness.cleanup();
      }
    },
  });
  const keys = (heard: Map<string, number>) => [...heard.keys()].sort();

  return [
    withPresence('a node counts as heard by the other gateways, as lately as any of them heard it', async (presence) => {
      await presence.heard('g1', ['n1', 'n2']);
      await sleep(50);
      await presence.heard('g2', ['n1', 'n3']);
      await presence.heard('g1', []);
      const heard = await presence.heardWithin(60_000, 'g3');
      assert.deepEqual(keys(heard), ['n1', 'n2', 'n3']);
      for (const ago of heard.values()) assert.ok(ago >= 0 && ago < 60_000, String(ago));
      assert.ok(heard.get('n2')! - heard.get('n1')! >= 40, `n1 heard by g2 after n2 by g1: ${[...heard]}`);
      assert.deepEqual(keys(await presence.heardWithin(60_000, 'g2')), ['n1', 'n2'], 'what g2 itself heard is not news to g2');
      await sleep(20);
      assert.deepEqual(keys(await presence.heardWithin(10, 'g3')), [], 'too long ago');
    }),
    withPresence('a gateway that no longer hears a node, or stops, hears it no more', async (presence) => {
      await presence.heard('g1', ['n1', 'n2', 'n3']);
      await presence.heard('g2', ['n1', 'n2']);
      await presence.left('g1', ['n1']);
      assert.deepEqual(keys(await presence.heardWithin(60_000, 'g2')), ['n2', 'n3']);
      await presence.left('g1');
      assert.deepEqual(await presence.heardWithin(60_000, 'g2'), new Map());
      assert.deepEqual(keys(await presence.heardWithin(60_000, 'g3')), ['n1', 'n2'], 'g2 still hears them');
    }),
  ];
}
