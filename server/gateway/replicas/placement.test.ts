import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diskFirst, rankTargets, type PlacementNode } from './placement.ts';

const GB = 1e9;
const node = (id: string, capacityGB: number, over: Partial<PlacementNode> = {}): PlacementNode => ({ id, kind: 'disk', capacityBytes: capacityGB * GB, freeBytes: capacityGB * GB, ...over });
const hashes = Array.from({ length: 3000 }, (_, i) => (i * 2654435761 >>> 0).toString(16).padStart(8, '0') + 'a'.repeat(56));

function firstChoices(nodes: PlacementNode[], replicas = 2): Map<string, number> {
  const wins = new Map<string, number>();
  for (const hash of hashes) {
    for (const n of rankTargets(hash, 1, nodes, replicas).slice(0, replicas)) wins.set(n.id, (wins.get(n.id) ?? 0) + 1);
  }
  return wins;
}

test('replicas spread in proportion to capacity', () => {
  const nodes = [node('a', 1), node('b', 2), node('c', 3), node('d', 4)];
  const wins = firstChoices(nodes);
  for (const n of nodes) {
    const share = (wins.get(n.id) ?? 0) / (hashes.length * 2);
    const expected = n.capacityBytes / (10 * GB);
    assert.ok(Math.abs(share - expected) < 0.03, `${n.id} got ${share.toFixed(3)}, expected about ${expected}`);
  }
});

test('a ranking never names a node twice, so R replicas land on R distinct nodes', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => node(id, 10));
  for (const hash of hashes.slice(0, 500)) {
    const ranked = rankTargets(hash, 1, nodes, 2).map((n) => n.id);
    assert.equal(new Set(ranked).size, ranked.length);
    assert.equal(ranked.length, nodes.length);
  }
});

test('the same nodes in any order give the same targets, whichever gateway asks', () => {
  const nodes = Array.from({ length: 40 }, (_, i) => node(`n${i}`, 1 + (i % 5)));
  const reversed = [...nodes].reverse();
  for (const hash of hashes.slice(0, 300)) {
    assert.deepEqual(rankTargets(hash, 1, reversed, 2).map((n) => n.id), rankTargets(hash, 1, nodes, 2).map((n) => n.id));
  }
});

test('a node without room is skipped unless it already holds the chunk', () => {
  const nodes = [node('full', 10, { freeBytes: 10 }), node('b', 10), node('c', 10)];
  for (const hash of hashes.slice(0, 200)) {
    assert.ok(!rankTargets(hash, 100, nodes, 2).some((n) => n.id === 'full'));
    assert.ok(rankTargets(hash, 100, nodes, 2, { holding: ['full'] }).some((n) => n.id === 'full'));
  }
});

test('nodes skipped all over the list: the rank goes on past it to name enough', () => {
  const nodes = Array.from({ length: 60 }, (_, i) => node(`n${i}`, 10));
  for (const hash of hashes.slice(0, 100)) {
    const listed = rankTargets(hash, 1, nodes, 2).map((n) => n.id);
    const skipped = new Set(listed.slice(0, listed.length - 1));
    const ranked = rankTargets(hash, 1, nodes, 2, { skip: (n) => skipped.has(n.id) });
    assert.ok(ranked.length >= 2 && ranked.every((n) => !skipped.has(n.id)), `named ${ranked.map((n) => n.id)}`);
  }
});

test('a disk node is named when the list holds only tabs, so one copy can go to a disk', () => {
  const nodes = [node('d1', 1), node('d2', 1), ...Array.from({ length: 60 }, (_, i) => node(`tab-${i}`, 1, { kind: 'browser' }))];
  let tabsOnly = 0;
  for (const hash of hashes.slice(0, 300)) {
    if (!rankTargets(hash, 1, nodes, 2).some((n) => n.kind === 'disk')) tabsOnly++;
    assert.ok(rankTargets(hash, 1, nodes, 2, { disk: true }).some((n) => n.kind === 'disk'));
  }
  assert.ok(tabsOnly > 100, `only ${tabsOnly} lists without a disk: the case is not tested`);
});

test('a node whose capacity moves a little keeps its weight, so the table stays', () => {
  const nodes = [node('a', 10), node('b', 20), node('c', 30)];
  const before = hashes.slice(0, 300).map((hash) => rankTargets(hash, 1, nodes, 2).map((n) => n.id).join());
  const moved = [node('a', 10.1), node('b', 19.9), node('c', 30)];
  assert.deepEqual(hashes.slice(0, 300).map((hash) => rankTargets(hash, 1, moved, 2).map((n) => n.id).join()), before);
});

test('a browser tab weighs no more than the largest disk, however much it claims', () => {
  const nodes = [node('d1', 1), node('d2', 1), node('d3', 1), node('tab-x', 1e6, { kind: 'browser' })];
  const wins = firstChoices(nodes, 1);
  const share = (wins.get('tab-x') ?? 0) / hashes.length;
  assert.ok(share < 0.35, `the tab got ${share} of the chunks`);
});

test('diskFirst puts the best disk first while no disk holds the chunk', () => {
  const ranked = [node('tab-1', 1, { kind: 'browser' }), node('tab-2', 1, { kind: 'browser' }), node('d', 1)];
  assert.deepEqual(diskFirst(ranked, false).map((n) => n.id), ['d', 'tab-1', 'tab-2']);
  assert.deepEqual(diskFirst(ranked, true).map((n) => n.id), ['tab-1', 'tab-2', 'd']);
});
