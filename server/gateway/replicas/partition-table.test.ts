import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { PartitionTable, partitionOf, type TableMember } from './partition-table.ts';

const BITS = 14;
const mixed = (count: number, prefix = 'node'): TableMember[] => Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, weight: [1, 2, 4, 8][i % 4]! * 1e11 }));
const build = (members: TableMember[], replicas = 2) => new PartitionTable(members, { replicas, partitionBits: BITS });

/** Replica slots (partition, member id) that `after` has and `before` does not: what moves. */
function moved(before: PartitionTable, after: PartitionTable): number {
  let count = 0;
  for (let p = 0; p < before.partitions; p++) {
    const was = new Set([...before.list(p).subarray(0, before.replicas)].map((m) => before.members[m]!.id));
    for (const m of after.list(p).subarray(0, after.replicas)) if (!was.has(after.members[m]!.id)) count++;
  }
  return count / (before.partitions * before.replicas);
}

const weight = (members: TableMember[]) => members.reduce((sum, m) => sum + m.weight, 0);

const base = mixed(120);
const table = build(base);

test('mixed capacities: every member holds its share of replica slots within 10%', () => {
  const slots = table.slots();
  const targets = table.targets();
  for (let i = 0; i < slots.length; i++) {
    const ratio = slots[i]! / targets[i]!;
    assert.ok(ratio > 0.9 && ratio < 1.1, `${table.members[i]!.id} (weight ${table.members[i]!.weight}) holds ${slots[i]} slots for a share of ${targets[i]!.toFixed(1)}`);
  }
});

test('each partition lists distinct members, so R copies land on R nodes', () => {
  for (let p = 0; p < table.partitions; p += 7) {
    const list = [...table.list(p)];
    assert.equal(list.length, 2 + 8);
    assert.equal(new Set(list).size, list.length);
  }
});

test('adding nodes moves close to the ideal fraction, all of it onto the new nodes', () => {
  const added = mixed(6, 'new');
  const after = build([...base, ...added]);
  const ideal = weight(added) / weight([...base, ...added]);
  const fraction = moved(table, after);
  assert.ok(fraction >= ideal * 0.9 && fraction <= ideal * 1.35, `moved ${fraction.toFixed(4)} of the slots, ideal ${ideal.toFixed(4)}`);
  const newIds = new Set(added.map((m) => m.id));
  let ontoNew = 0;
  let total = 0;
  for (let p = 0; p < after.partitions; p++) {
    const was = new Set([...table.list(p).subarray(0, 2)].map((m) => table.members[m]!.id));
    for (const m of after.list(p).subarray(0, 2)) {
      if (was.has(after.members[m]!.id)) continue;
      total++;
      if (newIds.has(after.members[m]!.id)) ontoNew++;
    }
  }
  assert.ok(ontoNew / total > 0.75, `only ${ontoNew} of ${total} moved slots went to the new nodes`);
});

test('removing nodes moves close to what they held', () => {
  const gone = new Set(['node-3', 'node-40', 'node-77', 'node-101']);
  const after = build(base.filter((m) => !gone.has(m.id)));
  const ideal = weight(base.filter((m) => gone.has(m.id))) / weight(base);
  const fraction = moved(table, after);
  assert.ok(fraction >= ideal * 0.9 && fraction <= ideal * 1.35, `moved ${fraction.toFixed(4)} of the slots, ideal ${ideal.toFixed(4)}`);
});

test('the same members in any order make the same table: gateways agree', () => {
  const shuffled = [...base].reverse();
  const again = build(shuffled);
  for (let p = 0; p < table.partitions; p++) assert.deepEqual([...again.list(p)].map((m) => again.members[m]!.id), [...table.list(p)].map((m) => table.members[m]!.id));
});

test('the table of a fixed set of nodes does not change between releases, which would move every cluster', () => {
  const small = new PartitionTable(
    ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, weight: (i + 1) * 1e9 })),
    { replicas: 2, partitionBits: 8 },
  );
  const lists = Array.from({ length: small.partitions }, (_, p) => [...small.list(p)].map((m) => small.members[m]!.id).join('')).join(',');
  assert.equal(lists.slice(0, 23), 'decba,ebacd,edcba,cdeab');
  assert.equal(createHash('sha256').update(lists).digest('hex').slice(0, 16), 'fd5635a3529e0267');
});

test('pick walks the list, then the rest by rank when the list runs out', () => {
  const small = new PartitionTable(mixed(30), { replicas: 2, partitionBits: 6 });
  const list = [...small.list(5)];
  const out: number[] = [];
  small.pick(5, 2, (m) => !list.includes(m), out);
  assert.equal(out.length, 2);
  assert.ok(out.every((m) => !list.includes(m)));
  const again: number[] = [];
  small.pick(5, 2, (m) => !list.includes(m), again);
  assert.deepEqual(again, out);
  const listed: number[] = [];
  small.pick(5, 2, () => true, listed);
  assert.deepEqual(listed, list);
});

test('members without weight are never listed; fewer members than R lists them all', () => {
  const small = new PartitionTable([{ id: 'full', weight: 0 }, { id: 'ok', weight: 5 }], { replicas: 2, partitionBits: 4 });
  assert.deepEqual(small.members.map((m) => m.id), ['ok']);
  for (let p = 0; p < small.partitions; p++) assert.deepEqual([...small.list(p)], [0]);
});

test('a chunk\'s partition is the top bits of its hash', () => {
  assert.equal(partitionOf('ffff' + '0'.repeat(60)), 0xffff);
  assert.equal(partitionOf('0001' + 'f'.repeat(60)), 1);
  assert.equal(partitionOf('abcd' + '0'.repeat(60), 12), 0xabc);
});
