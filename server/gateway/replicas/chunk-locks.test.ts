import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChunkLocks } from './chunk-locks.ts';

test('pins count: a hash stays pinned until every pin is released', () => {
  const pins = new ChunkLocks();
  pins.pin('a');
  pins.pin('a');
  pins.unpin('a');
  assert.equal(pins.isPinned('a'), true);
  pins.unpin('a');
  assert.equal(pins.isPinned('a'), false);
});

test('work under the lock of a hash never overlaps other work on that hash', async () => {
  const pins = new ChunkLocks();
  const events: string[] = [];
  const job = (name: string, hashes: string[], ms: number) =>
    pins.locked(hashes, async () => {
      events.push(`${name}+`);
      await sleep(ms);
      events.push(`${name}-`);
    });
  await Promise.all([job('remove', ['b', 'a', 'c'], 30), job('place', ['a'], 5), job('other', ['z'], 1)]);
  assert.ok(events.indexOf('place+') > events.indexOf('remove-'), events.join(' '));
  assert.ok(events.indexOf('other-') < events.indexOf('remove-'), `unrelated hashes wait for nothing: ${events.join(' ')}`);
});

test('two holders of overlapping sets, asked in opposite orders, both finish', async () => {
  const pins = new ChunkLocks();
  let done = 0;
  await Promise.all([
    pins.locked(['x', 'y'], async () => {
      await sleep(5);
      done++;
    }),
    pins.locked(['y', 'x'], async () => {
      await sleep(5);
      done++;
    }),
  ]);
  assert.equal(done, 2);
});

test('a failing holder releases its locks', async () => {
  const pins = new ChunkLocks();
  await assert.rejects(pins.locked(['k'], async () => {
    throw new Error('boom');
  }));
  assert.equal(await pins.locked(['k'], async () => 'next'), 'next');
});
