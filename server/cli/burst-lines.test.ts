import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { BurstLines } from './burst-lines.ts';

test('a burst of lines of one kind is the first line, then one summary a period until it stops', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const lines: string[] = [];
    const burst = new BurstLines((line) => lines.push(line), 1000);
    const stored = (name: string, bytes: number) => burst.add('stored', `stored ${name}`, bytes, (count, total) => `stored ${count} more (${total} bytes)`);
    stored('a', 1);
    stored('b', 2);
    stored('c', 3);
    burst.add('deleted', 'deleted x', 0, (count) => `deleted ${count} more`);
    assert.deepEqual(lines, ['stored a', 'deleted x']);
    mock.timers.tick(1000);
    assert.deepEqual(lines, ['stored a', 'deleted x', 'stored 2 more (5 bytes)']);
    stored('d', 4);
    mock.timers.tick(1000);
    mock.timers.tick(1000);
    assert.deepEqual(lines.slice(3), ['stored 1 more (4 bytes)']);
    stored('e', 5);
    assert.deepEqual(lines.slice(4), ['stored e'], 'quiet again: the next line goes out at once');
  } finally {
    mock.timers.reset();
  }
});
