import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankNodes } from './placement.ts';

const keys = Array.from({ length: 6000 }, (_, i) => `chunk-${i}`);

test('first choices spread in proportion to weight', () => {
  const nodes = [
    { id: 'a', weight: 1 },
    { id: 'b', weight: 2 },
    { id: 'c', weight: 3 },
  ];
  const wins = new Map<string, number>();
  for (const key of keys) {
    const first = rankNodes(key, nodes)[0]!.id;
    wins.set(first, (wins.get(first) ?? 0) + 1);
  }
  for (const node of nodes) {
    const share = (wins.get(node.id) ?? 0) / keys.length;
    assert.ok(Math.abs(share - node.weight / 6) < 0.03, `${node.id} got ${share}, expected about ${node.weight / 6}`);
  }
});

test('a ranking never names a node twice, so R replicas land on R distinct nodes', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => ({ id, weight: 10 }));
  for (const key of keys.slice(0, 500)) {
    const ranked = rankNodes(key, nodes).map((n) => n.id);
    assert.equal(new Set(ranked).size, nodes.length);
    assert.equal(new Set(ranked.slice(0, 2)).size, 2);
  }
});

test('ranking is deterministic and adding a node moves only the keys it wins', () => {
  const before = [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }];
  const after = [...before, { id: 'd', weight: 1 }];
  let moved = 0;
  for (const key of keys) {
    const was = rankNodes(key, before)[0]!.id;
    assert.equal(rankNodes(key, before)[0]!.id, was);
    const now = rankNodes(key, after)[0]!.id;
    if (now !== was) {
      moved++;
      assert.equal(now, 'd', 'a key moved between two old nodes');
    }
  }
  assert.ok(Math.abs(moved / keys.length - 0.25) < 0.03, `moved ${moved / keys.length}`);
});

test('nodes without weight are never chosen', () => {
  const ranked = rankNodes('k', [{ id: 'full', weight: 0 }, { id: 'ok', weight: 5 }]);
  assert.deepEqual(ranked.map((n) => n.id), ['ok']);
});
